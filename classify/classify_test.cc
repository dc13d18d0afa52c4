#include "classify/classify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "classify/classifier.h"

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

// kFactura's words as OCR would give them: every word read at 96 but those
// in `unsure`, read at the confidence given there.
std::vector<OcrWord> OcrWordsOf(const std::map<std::string, float>& unsure) {
  std::vector<OcrWord> words;
  std::size_t begin = 0;
  while (begin < kFactura.size()) {
    std::size_t end = kFactura.find_first_of(" \n", begin);
    if (end == std::string::npos) end = kFactura.size();
    if (end > begin) {
      std::string word = kFactura.substr(begin, end - begin);
      auto it = unsure.find(word);
      words.push_back({word, it != unsure.end() ? it->second : 96.0F});
    }
    begin = end + 1;
  }
  return words;
}

// The client's NIF, alone among kFactura's words, read at `confidence`.
std::vector<OcrWord> UnsureNif(float confidence) { return OcrWordsOf({{"52081171V", confidence}}); }

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
  // The field is named once, then the validator's own words.
  EXPECT_EQ(c.reasons[0].find("iban: iban:"), std::string::npos) << c.reasons[0];
  EXPECT_EQ(c.fields["iban"].reason, "iban: mod-97 check fails");
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
  // The same text read by OCR with a doubtful word in the client's NIF.
  Classification ocr = Classify(kFactura, UnsureNif(40));
  EXPECT_EQ(ocr.status, "review");
  EXPECT_LT(ocr.fields["cliente_nif"].confidence, RoutingPolicy().min_field_confidence);
}

// OCR unsure of the total's words, but base + iva = total and iva = base x
// rate hold: a misread amount would break one of them, so the amounts are
// taken as read right. When they do not add up, nothing is raised.
TEST(ClassifyTest, AmountsThatAddUpAreSureWhateverOcrThought) {
  const std::vector<OcrWord> words = OcrWordsOf({{"728,86", 40}, {"662,60", 40}, {"66,26", 40}});
  Classification c = Classify(kFactura, words);
  ASSERT_EQ(c.type, "factura");
  for (const char* name : {"base", "iva", "total"}) {
    EXPECT_DOUBLE_EQ(c.fields[name].confidence, 0.9) << name;
    EXPECT_NE(c.fields[name].reason.find("confirmed by base + iva = total"), std::string::npos)
        << name << ": " << c.fields[name].reason;
  }
  EXPECT_EQ(c.status, "auto") << c.reasons[0];

  // The same words, the total misread: the rule breaks, nothing is raised.
  Classification broken =
      Classify(Replace(kFactura, "TOTAL FACTURA: 728,86", "TOTAL FACTURA: 728,96"), words);
  EXPECT_EQ(broken.status, "review");
  EXPECT_LT(broken.fields["base"].confidence, 0.9);
  EXPECT_EQ(broken.fields["base"].reason.find("confirmed by base"), std::string::npos);
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

// ---------------------------------------------------------------------------
// Corrections in review

// The canonical value of a correction, or the error message when refused.
std::string Corrected(std::string_view type, std::string_view field, std::string_view value) {
  Result<Field> f = ParseCorrection(type, field, value);
  if (!f) return "error: " + f.error().message;
  EXPECT_TRUE(f->valid);
  EXPECT_DOUBLE_EQ(f->confidence, 1.0);
  EXPECT_EQ(f->raw, value);
  EXPECT_TRUE(f->reason.empty());
  EXPECT_TRUE(f->repairs.empty());
  return f->value;
}

// The message of a refused correction; fails the test when it was accepted.
std::string Refusal(std::string_view type, std::string_view field, std::string_view value) {
  Result<Field> f = ParseCorrection(type, field, value);
  if (f) {
    ADD_FAILURE() << field << " = \"" << value << "\" accepted as " << f->value;
    return "";
  }
  EXPECT_EQ(f.error().code, Code::kInvalidArgument);
  return f.error().message;
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(ParseCorrectionTest, DatesInCanonicalForm) {
  EXPECT_EQ(Corrected("factura", "fecha", "12/03/2024"), "2024-03-12");
  EXPECT_EQ(Corrected("factura", "fecha", "12-03-2024"), "2024-03-12");
  EXPECT_EQ(Corrected("factura", "fecha", "12.3.2024"), "2024-03-12");
  EXPECT_EQ(Corrected("factura", "fecha", " 2024-03-12 "), "2024-03-12");
  EXPECT_EQ(Corrected("factura", "fecha", "12 de marzo de 2024"), "2024-03-12");
  EXPECT_EQ(Corrected("dni", "caducidad", "29/02/2028"), "2028-02-29");
  EXPECT_EQ(Corrected("justificante_bancario", "fecha", "1/2/24"), "2024-02-01");
}

TEST(ParseCorrectionTest, AmountsInCanonicalForm) {
  EXPECT_EQ(Corrected("factura", "total", "1.234,56 €"), "1234.56");
  EXPECT_EQ(Corrected("factura", "total", "1234,56"), "1234.56");
  EXPECT_EQ(Corrected("factura", "total", "1234.56"), "1234.56");
  EXPECT_EQ(Corrected("factura", "base", "EUR 1.234,56"), "1234.56");
  EXPECT_EQ(Corrected("nomina", "neto", "1.850"), "1850.00");
  EXPECT_EQ(Corrected("contrato", "importe", "12.000,00 euros"), "12000.00");
}

TEST(ParseCorrectionTest, IdsInCanonicalForm) {
  EXPECT_EQ(Corrected("factura", "iban", "es91 2100 0418 4502 0005 1332"),
            "ES9121000418450200051332");
  EXPECT_EQ(
      Corrected("justificante_bancario", "iban_beneficiario", "IBAN ES75-4564-7920-6786-8795-8918"),
      "ES7545647920678687958918");
  EXPECT_EQ(Corrected("factura", "cliente_nif", "52.081.171-v"), "52081171V");
  EXPECT_EQ(Corrected("factura", "emisor_cif", "ES B-18337204"), "B18337204");
  EXPECT_EQ(Corrected("reclamacion", "cups", "es 0021 0000 0000 0000 rc"), "ES0021000000000000RC");
}

TEST(ParseCorrectionTest, PeriodPercentAndTextInCanonicalForm) {
  EXPECT_EQ(Corrected("nomina", "periodo", "marzo 2024"), "2024-03");
  EXPECT_EQ(Corrected("nomina", "periodo", "03/2024"), "2024-03");
  EXPECT_EQ(Corrected("nomina", "periodo", "2024-03"), "2024-03");
  EXPECT_EQ(Corrected("factura", "iva_pct", "21"), "21");
  EXPECT_EQ(Corrected("factura", "iva_pct", "21 %"), "21");
  EXPECT_EQ(Corrected("factura", "iva_pct", "10,00%"), "10");
  EXPECT_EQ(Corrected("factura", "numero", "  A/2024/124 "), "A/2024/124");
  EXPECT_EQ(Corrected("albaran", "pedido", "PED \t 92234"), "PED 92234");
  EXPECT_EQ(Corrected("justificante_bancario", "referencia", "REF-0042"), "REF-0042");
  // Names as the extractor writes them from an identity card: upper case.
  EXPECT_EQ(Corrected("dni", "nombre", " maría\xC2\xA0 josé "), "MARÍA JOSÉ");
  EXPECT_EQ(Corrected("dni", "apellidos", "García-Núñez O'Brien"), "GARCÍA-NÚÑEZ O'BRIEN");
}

TEST(ParseCorrectionTest, InvalidValuesAreRefusedNamingTheField) {
  std::string iban = Refusal("factura", "iban", "ES91 2100 0418 4502 0005 1333");
  EXPECT_TRUE(StartsWith(iban, "iban: ")) << iban;
  EXPECT_TRUE(Contains(iban, "ES91 2100 0418 4502 0005 1333")) << iban;
  EXPECT_TRUE(Contains(iban, "type the IBAN as printed")) << iban;
  EXPECT_FALSE(Contains(iban, "iban: iban:")) << iban;

  std::string nif = Refusal("factura", "cliente_nif", "52081171Z");
  EXPECT_EQ(nif,
            "cliente_nif: check letter should be V, not Z (52081171Z); type the NIF, NIE or CIF "
            "as printed");
  EXPECT_TRUE(StartsWith(Refusal("nomina", "trabajador_nif", "1234"), "trabajador_nif: "));
  EXPECT_TRUE(StartsWith(Refusal("reclamacion", "cups", "ES0021000000000000XY"), "cups: "));

  EXPECT_EQ(Refusal("factura", "fecha", "31/02/2024"),
            "fecha: \"31/02/2024\" is not a real date; write it as YYYY-MM-DD");
  EXPECT_EQ(Refusal("dni", "nacimiento", "ayer"),
            "nacimiento: \"ayer\" is not a date; write it as YYYY-MM-DD or DD/MM/YYYY");
  EXPECT_TRUE(StartsWith(Refusal("factura", "total", "12,34,56"), "total: \"12,34,56\" is not an"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "total", "doce euros"), "total: "));
  EXPECT_TRUE(StartsWith(Refusal("nomina", "periodo", "13/2024"), "periodo: "));
  EXPECT_TRUE(StartsWith(Refusal("factura", "iva_pct", "37"), "iva_pct: 37 is not a Spanish VAT"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "iva_pct", "veintiuno"), "iva_pct: "));
  EXPECT_TRUE(StartsWith(Refusal("dni", "nombre", "J0SE"), "nombre: \"J0SE\" is not a name"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "numero", " \t\n"), "numero: nothing typed"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "numero", std::string(257, 'A')),
                         "numero: 257 bytes typed, at most 256"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "numero", "A\x01Z"), "numero: holds a control"));
  EXPECT_TRUE(StartsWith(Refusal("factura", "numero", "A\xffZ"), "numero: not valid UTF-8"));
}

TEST(ParseCorrectionTest, UnknownTypeOrFieldIsRefusedListingWhatExists) {
  std::string field = Refusal("factura", "importe", "12,00");
  EXPECT_EQ(field,
            "\"importe\" is not a field of factura; its fields are numero, fecha, emisor_cif, "
            "cliente_nif, base, iva_pct, iva, total, iban");
  std::string otro = Refusal("otro", "numero", "1");
  EXPECT_TRUE(StartsWith(otro, "type \"otro\" has no fields to correct")) << otro;
  EXPECT_TRUE(Contains(otro, "factura, dni, justificante_bancario")) << otro;
  EXPECT_TRUE(StartsWith(Refusal("", "", ""), "type \"\" has no fields"));
  // Odd bytes in names are shown escaped, never as they are.
  std::string odd = Refusal("factura", "a\n\xff", "1");
  EXPECT_TRUE(StartsWith(odd, "\"a\\x0A\\xFF\" is not a field of factura")) << odd;
}

// Any bytes, as a fuzzer would send them, give a value or an error, and
// every value given is in canonical form: correcting it again changes nothing.
TEST(ParseCorrectionTest, GarbageBytesNeverCrash) {
  std::mt19937 rng(20240312);
  const std::vector<std::string> seeds = {"12/03/2024", "1.234,56 €", "ES9121000418450200051332",
                                          "52081171V",  "21 %",       "marzo 2024",
                                          "MARÍA"};
  const std::string alphabet = "0123456789/-., %:ESAZaz€";
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    switch (i % 3) {
      case 0:  // a valid value with a few bytes changed
        value = seeds[static_cast<std::size_t>(i / 3) % seeds.size()];
        for (int k = 0; k < 2; ++k) {
          value[rng() % value.size()] =
              i % 2 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
        }
        break;
      case 1:  // what a value is made of, in any order
        value.resize(rng() % 24);
        for (char& c : value) c = alphabet[rng() % alphabet.size()];
        break;
      default:  // any bytes, sometimes over the limit
        value.resize(rng() % 300);
        for (char& c : value) c = static_cast<char>(rng() % 256);
    }
    for (const std::string& type : DocumentTypes()) {
      for (const std::string& field : FieldsOf(type)) {
        Result<Field> f = ParseCorrection(type, field, value);
        if (!f) {
          EXPECT_TRUE(StartsWith(f.error().message, field + ": ")) << f.error().message;
          continue;
        }
        ++accepted;
        Result<Field> again = ParseCorrection(type, field, f->value);
        ASSERT_TRUE(again) << field << ": " << again.error().message;
        EXPECT_EQ(again->value, f->value) << field;
      }
    }
  }
  EXPECT_GT(accepted, 1000);  // the loop reached the canonicalisers, not only the checks
}

TEST(DocumentTypesTest, ListsEveryTypeTheModelGivesAndOtro) {
  const std::vector<std::string>& types = DocumentTypes();
  EXPECT_EQ(types.back(), "otro");
  EXPECT_TRUE(FieldsOf("otro").empty());
  for (std::size_t i = 0; i + 1 < types.size(); ++i) EXPECT_FALSE(FieldsOf(types[i]).empty());
  for (const std::string& t : TypeModel::Default().Types()) {
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  }
}

// A misread total breaks base + iva = total, so base, iva and total all go
// to review; the reviewer types the printed total and all three are valid.
TEST(RevalidateTest, CorrectedTotalMakesTheInvoiceValidAndAuto) {
  Classification c = Classify(Replace(kFactura, "TOTAL FACTURA: 728,86", "TOTAL FACTURA: 728,96"));
  ASSERT_EQ(c.type, "factura");
  ASSERT_EQ(c.status, "review");
  ASSERT_FALSE(c.fields["base"].valid);
  ASSERT_FALSE(c.fields["iva"].valid);
  ASSERT_FALSE(c.fields["total"].valid);

  Result<Field> total = ParseCorrection(c.type, "total", "728,86 €");
  ASSERT_TRUE(total) << total.error().message;
  c.fields["total"] = *total;
  Revalidate(&c);
  EXPECT_EQ(c.status, "auto");
  EXPECT_TRUE(c.reasons.empty()) << c.reasons[0];
  for (const char* name : {"base", "iva", "total"}) {
    EXPECT_TRUE(c.fields[name].valid) << name;
    EXPECT_TRUE(c.fields[name].reason.empty()) << name << ": " << c.fields[name].reason;
  }
  EXPECT_EQ(c.fields["total"].value, "728.86");
  EXPECT_EQ(c.fields["total"].raw, "728,86 €");
}

TEST(RevalidateTest, WrongCorrectionKeepsTheRuleBrokenOnce) {
  Classification c = Classify(Replace(kFactura, "TOTAL FACTURA: 728,86", "TOTAL FACTURA: 728,96"));
  Result<Field> total = ParseCorrection(c.type, "total", "700,00");
  ASSERT_TRUE(total);
  c.fields["total"] = *total;
  Revalidate(&c);
  Revalidate(&c);  // idempotent: the rule's reason is not repeated
  EXPECT_EQ(c.status, "review");
  EXPECT_FALSE(c.fields["total"].valid);
  EXPECT_EQ(c.fields["base"].reason, "factura: base + iva is 728.86, not total 700.00");
  EXPECT_EQ(c.fields["total"].reason, c.fields["base"].reason);
}

// A field invalid on its own (a bad check digit) is not made valid by
// Revalidate, and a confidence note survives a rule that broke and healed.
TEST(RevalidateTest, KeepsOwnFaultsAndNotes) {
  Classification c;
  c.type = "nomina";
  c.type_confidence = 0.99;
  c.fields["bruto"] = Field{"1000.00",
                            0.85,
                            false,
                            "value on the line after its label; nomina: neto 1200.00 is more "
                            "than bruto 1000.00",
                            "1.000,00",
                            {}};
  c.fields["neto"] = Field{
      "1200.00", 1.0, false, "nomina: neto 1200.00 is more than bruto 1000.00", "1.200,00", {}};
  c.fields["iban"] =
      Field{"ES7645647920678687958918",      1.0, false, "iban: iban: mod-97 check fails",
            "ES76 4564 7920 6786 8795 8918", {}};
  Result<Field> neto = ParseCorrection("nomina", "neto", "950,00");
  ASSERT_TRUE(neto);
  c.fields["neto"] = *neto;
  Revalidate(&c);
  EXPECT_TRUE(c.fields["bruto"].valid);
  EXPECT_EQ(c.fields["bruto"].reason, "value on the line after its label");
  EXPECT_TRUE(c.fields["neto"].valid);
  EXPECT_FALSE(c.fields["iban"].valid);
  EXPECT_EQ(c.status, "review");
}

// ---------------------------------------------------------------------------
// Confirm: a second reading of the same scan settles each field.

TEST(ConfirmTest, TwoReadingsThatAgreeMakeAnUnsureValueSure) {
  Classification first = Classify(kFactura, UnsureNif(45));
  ASSERT_EQ(first.status, "review");
  const double a = first.fields["cliente_nif"].confidence;
  ASSERT_LT(a, RoutingPolicy().min_field_confidence);
  const Classification second = ClassifyAs("factura", kFactura, UnsureNif(50));
  const double b = second.fields.at("cliente_nif").confidence;
  Confirm(&first, second);
  EXPECT_EQ(first.status, "auto");
  EXPECT_TRUE(first.reasons.empty()) << first.reasons[0];
  EXPECT_DOUBLE_EQ(first.fields["cliente_nif"].confidence, 1 - (1 - a) * (1 - b));
  EXPECT_EQ(first.fields["cliente_nif"].value, "52081171V");
  EXPECT_NE(first.fields["cliente_nif"].reason.find("confirmed by a second reading"), std::string::npos)
      << first.fields["cliente_nif"].reason;
}

TEST(ConfirmTest, OneUnsureReadingAloneIsNotEnough) {
  Classification first = Classify(kFactura, UnsureNif(45));
  // The second reading is as unsure and finds nothing else: still review.
  Classification second = ClassifyAs("factura", kFactura, UnsureNif(10));
  Confirm(&first, second);
  EXPECT_EQ(first.status, "review");
  EXPECT_LT(first.fields["cliente_nif"].confidence, RoutingPolicy().min_field_confidence);
}

// A value both readings doubt the same way (an accent OCR may have lost) is
// not made surer by the second: the same page gives the same doubt.
TEST(ConfirmTest, ADoubtOfHowTheTextReadsIsNotConfirmedByReadingAgain) {
  Classification first = Classify(kFactura, UnsureNif(45));
  Classification second = ClassifyAs("factura", kFactura, UnsureNif(50));
  first.fields["cliente_nif"].doubted = true;
  second.fields["cliente_nif"].doubted = true;
  const double a = first.fields["cliente_nif"].confidence;
  Confirm(&first, second);
  EXPECT_EQ(first.status, "review");
  EXPECT_EQ(first.fields["cliente_nif"].confidence, a);
  EXPECT_EQ(first.fields["cliente_nif"].reason.find("second reading"), std::string::npos);
}

TEST(ConfirmTest, AFieldOnlyTheSecondReadingFoundIsTakenAsRead) {
  Classification first = Classify(Replace(kFactura, "IBAN: ES75 4564 7920 6786 8795 8918", ""));
  ASSERT_EQ(first.fields.count("iban"), 0u);
  const Classification second = ClassifyAs("factura", kFactura);
  Confirm(&first, second);
  ASSERT_EQ(first.fields.count("iban"), 1u);
  EXPECT_EQ(first.fields["iban"].value, "ES7545647920678687958918");
  EXPECT_EQ(first.fields["iban"].reason, "from a second reading");
  EXPECT_EQ(first.status, "auto");
}

// A total the first reading got wrong (base + iva no longer adds up) is
// replaced by the second's; the cross-field rules are checked on what is
// settled, so base and iva are valid again.
TEST(ConfirmTest, AnInvalidFirstReadingGivesWayToAValidSecond) {
  Classification first =
      Classify(Replace(kFactura, "TOTAL FACTURA: 728,86", "TOTAL FACTURA: 728,96"));
  ASSERT_FALSE(first.fields["total"].valid);
  Confirm(&first, ClassifyAs("factura", kFactura));
  EXPECT_EQ(first.fields["total"].value, "728.86");
  EXPECT_TRUE(first.fields["total"].valid);
  EXPECT_TRUE(first.fields["base"].valid) << first.fields["base"].reason;
  EXPECT_EQ(first.status, "auto") << first.reasons[0];
}

TEST(ConfirmTest, ReadingsThatDisagreeAreDoubtedAndGoToReview) {
  // Both readings are valid on their own: a total that adds up cannot be
  // told from the other by the rules, so use the IBAN, valid in both.
  const std::string other_iban = "ES91 2100 0418 4502 0005 1332";
  Classification first = Classify(kFactura);
  ASSERT_EQ(first.status, "auto");
  Classification second =
      ClassifyAs("factura", Replace(kFactura, "ES75 4564 7920 6786 8795 8918", other_iban));
  ASSERT_TRUE(second.fields["iban"].valid);
  second.fields["iban"].confidence = 0.5;  // less sure than the first (1.0)
  Confirm(&first, second);
  EXPECT_EQ(first.fields["iban"].value, "ES7545647920678687958918");
  EXPECT_DOUBLE_EQ(first.fields["iban"].confidence, 0.5);
  EXPECT_EQ(first.fields["iban"].reason, "a second reading gives ES9121000418450200051332");
  EXPECT_EQ(first.status, "review");
}

// The second reading lost an accent the first kept (BENITEZ for BENÍTEZ,
// and doubts it): the first stands, neither confirmed nor doubted.
TEST(ConfirmTest, ASecondReadingThatDoubtsItselfDoesNotOverruleTheFirst) {
  Classification first = Classify(kFactura);
  Classification second = ClassifyAs(
      "factura", Replace(kFactura, "ES75 4564 7920 6786 8795 8918", "ES91 2100 0418 4502 0005 1332"));
  second.fields["iban"].doubted = true;
  Confirm(&first, second);
  EXPECT_EQ(first.fields["iban"].value, "ES7545647920678687958918");
  EXPECT_EQ(first.fields["iban"].confidence, 1.0);
  EXPECT_EQ(first.fields["iban"].reason, "");
  EXPECT_EQ(first.status, "auto");
}

TEST(ConfirmTest, ASecondReadingOfAnotherTypeChangesNothing) {
  Classification first = Classify(kFactura, UnsureNif(45));
  const Classification before = first;
  Confirm(&first, ClassifyAs("albaran", kFactura));
  EXPECT_EQ(first.status, before.status);
  EXPECT_EQ(first.fields["cliente_nif"].confidence, before.fields.at("cliente_nif").confidence);
  EXPECT_EQ(first.reasons, before.reasons);
}

TEST(ClassifyAsTest, TypeChosenByAPersonIsSureAndItsFieldsAreRead) {
  Classification c = ClassifyAs("factura", kFactura);
  EXPECT_EQ(c.type, "factura");
  EXPECT_DOUBLE_EQ(c.type_confidence, 1.0);
  EXPECT_EQ(c.status, "auto");
  ASSERT_EQ(c.fields.size(), FieldsOf("factura").size());
  EXPECT_EQ(c.fields["numero"].value, "A/2024/124");
  EXPECT_EQ(c.fields["total"].value, "728.86");
  EXPECT_EQ(c.fields["cliente_nif"].value, "52081171V");
  // The same fields as Classify reads when it finds the type itself.
  Classification auto_typed = Classify(kFactura);
  for (const auto& [name, f] : auto_typed.fields) EXPECT_EQ(c.fields[name].value, f.value) << name;
}

// Text the model cannot type, typed by a person: its fields are read all
// the same, and what is missing is a reason.
TEST(ClassifyAsTest, ShortTextOfAChosenTypeIsRoutedOnItsFields) {
  Classification c = ClassifyAs("nomina", "Periodo: marzo 2024\nLíquido a percibir: 1.200,00\n");
  EXPECT_EQ(c.type, "nomina");
  EXPECT_DOUBLE_EQ(c.type_confidence, 1.0);
  EXPECT_EQ(c.fields["periodo"].value, "2024-03");
  EXPECT_EQ(c.fields["neto"].value, "1200.00");
  EXPECT_EQ(c.status, "review");
  EXPECT_NE(std::find(c.reasons.begin(), c.reasons.end(), "bruto: not found"), c.reasons.end());
}

TEST(ClassifyAsTest, TypeWithoutFieldsGoesToReview) {
  Classification otro = ClassifyAs("otro", kFactura);
  EXPECT_EQ(otro.type, "otro");
  EXPECT_TRUE(otro.fields.empty());
  EXPECT_EQ(otro.status, "review");
  Classification unknown = ClassifyAs("carta", kFactura);
  EXPECT_EQ(unknown.type, "carta");
  EXPECT_TRUE(unknown.fields.empty());
  EXPECT_EQ(unknown.status, "review");
  EXPECT_EQ(unknown.reasons, std::vector<std::string>{"type carta has no extractor"});
}

}  // namespace
}  // namespace custodia::classify
