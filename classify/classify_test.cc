#include "classify/classify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace custodia::classify {
namespace {

// samples/01_factura.pdf's text layer.
const std::string kFactura =
    "Reformas La Mancha S.L.U.\nCalle de la Cigüeña, 72, 6º D\n46401 Valencia\n"
    "CIF: B18337204 · Tel.: 974 781 242\nFACTURA\nNº de factura: A/2024/124\n"
    "Fecha de factura: 30 de agosto de 2024\nFecha de vencimiento: 29 de septiembre de 2024\n"
    "DATOS DEL CLIENTE\nFrancisco Javier Fernández Cortés\nNIF: 52081171V\n"
    "Calle Ramón y Cajal, 9, 7º B, 12289 Castellón de la Plana (Castellón)\n"
    "Descripción Cant. Precio Importe\nMenú del día (comida de empresa) 1 15,47 15,47\n"
    "Alicatado de cocina (m²) 16,5 39,22 647,13\nBase imponible: 662,60 €\n"
    "IVA (10 %): 66,26 €\nTOTAL FACTURA: 728,86 €\n"
    "Forma de pago: transferencia bancaria a 30 días.\nIBAN: ES75 4564 7920 6786 8795 8918\n"
    "Inscrita en el Registro Mercantil de Valencia, tomo 38960, folio 129, hoja 85403.\n"
    "Sus datos se tratan para la gestión administrativa y contable conforme al Reglamento (UE) "
    "2016/679.";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(ClassifyTest, CleanInvoiceIsTypedExtractedAndAccepted) {
  Classification c = Classify(kFactura);
  EXPECT_EQ(c.type, "factura");
  EXPECT_GT(c.type_confidence, 0.9);
  EXPECT_EQ(c.status, "auto");
  EXPECT_TRUE(c.reasons.empty());
  ASSERT_EQ(c.fields.size(), FieldsOf("factura").size());
  EXPECT_EQ(c.fields["numero"].value, "A/2024/124");
  EXPECT_EQ(c.fields["fecha"].value, "2024-08-30");
  EXPECT_EQ(c.fields["total"].value, "728.86");
  EXPECT_EQ(c.fields["iban"].value, "ES7545647920678687958918");
  for (const auto& [name, f] : c.fields) EXPECT_TRUE(f.valid) << name;
}

// A value that fails its validator is kept for the reviewer and is a review
// reason: never accepted automatically.
TEST(ClassifyTest, InvalidFieldGoesToReviewWithItsReason) {
  Classification c = Classify(Replace(kFactura, "ES75 4564", "ES76 4564"));
  EXPECT_EQ(c.type, "factura");
  EXPECT_EQ(c.status, "review");
  ASSERT_TRUE(c.fields.count("iban"));
  EXPECT_FALSE(c.fields["iban"].valid);
  ASSERT_EQ(c.reasons.size(), 1u);
  EXPECT_EQ(c.reasons[0].rfind("iban: ", 0), 0u) << c.reasons[0];
}

TEST(ClassifyTest, TotalsThatDoNotAddUpGoToReview) {
  Classification c = Classify(Replace(kFactura, "TOTAL FACTURA: 728,86", "TOTAL FACTURA: 728,96"));
  EXPECT_EQ(c.status, "review");
  EXPECT_FALSE(c.fields["total"].valid);
}

TEST(ClassifyTest, MissingFieldAndLowConfidenceAreReasons) {
  Classification c = Classify(Replace(kFactura, "IBAN: ES75 4564 7920 6786 8795 8918", ""));
  EXPECT_EQ(c.status, "review");
  EXPECT_NE(std::find(c.reasons.begin(), c.reasons.end(), "iban: not found"), c.reasons.end());
  // The same text read by OCR with a doubtful word in the total.
  std::vector<OcrWord> words = {{"728,86", 40}};
  Classification ocr = Classify(kFactura, words);
  EXPECT_EQ(ocr.status, "review");
  EXPECT_LT(ocr.fields["total"].confidence, RoutingPolicy().min_field_confidence);
}

TEST(ClassifyTest, UnknownTextIsOtroAndGoesToReview) {
  Classification c = Classify("\x01\x02 zzz qqq");
  EXPECT_EQ(c.type, "otro");
  EXPECT_EQ(c.status, "review");
  EXPECT_TRUE(c.fields.empty());
  EXPECT_FALSE(c.reasons.empty());
}

TEST(ClassifyTest, JsonRoundTripKeepsEverything) {
  Classification c = Classify(Replace(kFactura, "ES75 4564", "ES76 4564"));
  c.fields["cliente_nif"].repairs = {"7: S -> 5"};
  Classification back = FromJson(c.type, c.status, ToJson(c));
  EXPECT_EQ(back.type, c.type);
  EXPECT_EQ(back.status, c.status);
  EXPECT_DOUBLE_EQ(back.type_confidence, c.type_confidence);
  EXPECT_EQ(back.reasons, c.reasons);
  ASSERT_EQ(back.fields.size(), c.fields.size());
  for (const auto& [name, f] : c.fields) {
    const Field& g = back.fields[name];
    EXPECT_EQ(g.value, f.value) << name;
    EXPECT_DOUBLE_EQ(g.confidence, f.confidence) << name;
    EXPECT_EQ(g.valid, f.valid) << name;
    EXPECT_EQ(g.reason, f.reason) << name;
    EXPECT_EQ(g.repairs, f.repairs) << name;
  }
  // Old records ("{}") and garbage read as no fields, never as an error.
  EXPECT_TRUE(FromJson("factura", "auto", "{}").fields.empty());
  EXPECT_TRUE(FromJson("factura", "auto", "not json").fields.empty());
  // Invalid UTF-8 in a value does not break the JSON.
  Classification odd;
  odd.fields["numero"].value = "\xff\xfe";
  EXPECT_EQ(FromJson("", "", ToJson(odd)).fields.size(), 1u);
}

}  // namespace
}  // namespace custodia::classify
