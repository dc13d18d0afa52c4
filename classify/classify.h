// classify/classify.h: document type, fields and routing from the text of a
// document. Pure functions of their inputs.
//
// The classifier and field extractors are not built yet (they are their own
// issue): Classify() says so plainly by answering type "unclassified" with
// no fields and status "unclassified"; it never guesses.
#ifndef CUSTODIA_CLASSIFY_CLASSIFY_H_
#define CUSTODIA_CLASSIFY_CLASSIFY_H_

#include <map>
#include <string>
#include <string_view>

namespace custodia::classify {

struct Field {
  std::string value;      // canonical form
  double confidence = 0;  // 0..1
  bool valid = false;
};

struct Classification {
  std::string type;  // "unclassified" until the classifier lands
  double type_confidence = 0;
  std::string status;  // routing: "unclassified" until routing lands
  std::map<std::string, Field> fields;
};

Classification Classify(std::string_view text);

}  // namespace custodia::classify

#endif  // CUSTODIA_CLASSIFY_CLASSIFY_H_
