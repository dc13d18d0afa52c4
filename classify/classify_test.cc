#include "classify/classify.h"

#include <gtest/gtest.h>

namespace custodia::classify {
namespace {

// Until the classifier lands, nothing may pretend to have been classified.
TEST(ClassifyTest, ReportsUnclassifiedWithNoFields) {
  Classification c = Classify("FACTURA N.º 2024-001\nCIF B12345678\nTotal 121,00 €");
  EXPECT_EQ(c.type, "unclassified");
  EXPECT_EQ(c.status, "unclassified");
  EXPECT_EQ(c.type_confidence, 0);
  EXPECT_TRUE(c.fields.empty());
}

}  // namespace
}  // namespace custodia::classify
