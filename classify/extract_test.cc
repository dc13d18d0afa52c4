// classify/extract_test.cc: the field extractors, per type, under OCR noise
// and hostile input, and over the committed samples' ground truth.
#include "classify/extract.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace custodia::classify {
namespace {

using Fields = std::map<std::string, std::string>;

// The canonical values of the fields read from a text layer.
Fields Values(std::string_view type, std::string_view text) {
  Fields out;
  for (const auto& [name, f] : ExtractFields(type, text, {}).fields) out[name] = f.value;
  return out;
}

const ExtractedField& Get(const Extraction& e, const std::string& name) {
  static const ExtractedField kNone;
  auto it = e.fields.find(name);
  return it != e.fields.end() ? it->second : kNone;
}

constexpr std::string_view kFactura =
    "Reformas La Mancha S.L.U.\n"
    "CIF: B18337204 · Tel.: 974 781 242\n"
    "FACTURA\n"
    "Nº de factura: A/2024/124\n"
    "Fecha de factura: 30 de agosto de 2024\n"
    "Fecha de vencimiento: 29 de septiembre de 2024\n"
    "DATOS DEL CLIENTE\n"
    "Francisco Javier Fernández Cortés\n"
    "NIF: 52081171V\n"
    "Descripción Cant. Precio Importe\n"
    "Alicatado de cocina (m²) 16,5 39,22 647,13\n"
    "Base imponible: 662,60 €\n"
    "IVA (10 %): 66,26 €\n"
    "TOTAL FACTURA: 728,86 €\n"
    "IBAN: ES75 4564 7920 6786 8795 8918\n";

TEST(ExtractTest, FacturaFieldsAreCanonical) {
  EXPECT_EQ(Values("factura", kFactura), (Fields{{"numero", "A/2024/124"},
                                                 {"fecha", "2024-08-30"},
                                                 {"emisor_cif", "B18337204"},
                                                 {"cliente_nif", "52081171V"},
                                                 {"base", "662.60"},
                                                 {"iva_pct", "10"},
                                                 {"iva", "66.26"},
                                                 {"total", "728.86"},
                                                 {"iban", "ES7545647920678687958918"}}));
  Extraction e = ExtractFields("factura", kFactura, {});
  EXPECT_TRUE(e.missing.empty());
  for (const auto& [name, f] : e.fields) {
    EXPECT_TRUE(f.valid) << name << ": " << f.reason;
    EXPECT_DOUBLE_EQ(f.confidence, 1.0) << name;
  }
  EXPECT_EQ(Get(e, "iban").raw, "ES75 4564 7920 6786 8795 8918");
}

TEST(ExtractTest, DniFieldsFromCardLayout) {
  constexpr std::string_view kDni =
      "ESPAÑA DOCUMENTO NACIONAL DE IDENTIDAD\n"
      "APELLIDOS / SURNAMES\nBENÍTEZ\nMARTÍNEZ\n"
      "NOMBRE / NAME\nJOSÉ LUIS\n"
      "SEXO / SEX NACIONALIDAD / NATIONALITY\nM ESP\n"
      "FECHA DE NACIMIENTO / DATE OF BIRTH\n01 05 1958\n"
      "NÚM. SOPORTE VÁLIDO HASTA / EXPIRY\n"
      "DNI 66799794C RMH523342 22 05 2031\n";
  EXPECT_EQ(Values("dni", kDni), (Fields{{"numero", "66799794C"},
                                         {"nombre", "JOSÉ LUIS"},
                                         {"apellidos", "BENÍTEZ MARTÍNEZ"},
                                         {"nacimiento", "1958-05-01"},
                                         {"caducidad", "2031-05-22"}}));
}

// OCR reads the slash between a card's Spanish and English labels as
// another stroke now and then; the English label is still a label, never
// part of the value (a DNI scan once gave apellidos "I SURNAMES ORTIZ").
TEST(ExtractTest, DniLabelsWithTheirSlashMisreadAreStillLabels) {
  for (const char* slash : {"/", "I", "l", "|", "1", "\\", ""}) {
    SCOPED_TRACE(slash);
    const std::string card = std::string("APELLIDOS ") + slash + " SURNAMES\nORTIZ\nLOPEZ\nNOMBRE " +
                             slash + " NAME\nJUAN\n";
    Extraction e = ExtractFields("dni", card, {});
    EXPECT_EQ(Get(e, "apellidos").value, "ORTIZ LOPEZ");
    EXPECT_EQ(Get(e, "nombre").value, "JUAN");
  }
}

// OCR of a card's small print drops accents: a name that reads like an
// accented one without its accent is doubted (sent to review), never
// repaired; in a text layer it is what the document says.
TEST(ExtractTest, OcrNamesThatLostTheirAccentAreDoubted) {
  constexpr std::string_view kCard =
      "APELLIDOS / SURNAMES\nMOLINA PENA\nNOMBRE / NAME\nJOSE LUIS\n";
  std::vector<WordConfidence> words;
  for (const char* w : {"APELLIDOS", "SURNAMES", "MOLINA", "PENA", "NOMBRE", "NAME", "JOSE", "LUIS"})
    words.push_back({w, 96});
  Extraction ocr = ExtractFields("dni", kCard, words);
  EXPECT_EQ(Get(ocr, "apellidos").value, "MOLINA PENA");  // not repaired
  EXPECT_LT(Get(ocr, "apellidos").confidence, 0.8);
  EXPECT_NE(Get(ocr, "apellidos").reason.find("PENA may have lost its accent (PEÑA?)"),
            std::string::npos)
      << Get(ocr, "apellidos").reason;
  EXPECT_LT(Get(ocr, "nombre").confidence, 0.8);
  Extraction layer = ExtractFields("dni", kCard, {});
  EXPECT_GE(Get(layer, "apellidos").confidence, 0.8);
  // Accented, or not a name that takes one: as sure as its words.
  std::vector<WordConfidence> right = {{"APELLIDOS", 96}, {"MOLINA", 96}, {"PEÑA", 96},
                                       {"NOMBRE", 96},    {"PABLO", 96}};
  Extraction fine = ExtractFields("dni", "APELLIDOS\nMOLINA PEÑA\nNOMBRE\nPABLO\n", right);
  EXPECT_GE(Get(fine, "apellidos").confidence, 0.8) << Get(fine, "apellidos").reason;
  EXPECT_GE(Get(fine, "nombre").confidence, 0.8) << Get(fine, "nombre").reason;
  // Patronymics in -EZ carry an accent.
  Extraction ez = ExtractFields("dni", "APELLIDOS\nROMERO VELAZQUEZ\n",
                                {{"APELLIDOS", 96}, {"ROMERO", 96}, {"VELAZQUEZ", 96}});
  EXPECT_LT(Get(ez, "apellidos").confidence, 0.8);
}

// What OCR does to a card's dates: the label's "/" or the spaces between
// day, month and year lost, a speck read as "-" after the label. The digits
// are read; a date whose spaces were lost is doubted.
TEST(ExtractTest, CardDatesAsOcrLeavesThem) {
  Extraction e = ExtractFields("dni",
                               "FECHA DE NACIMIENTO DATE OF BIRTH\n\n19 12 1967\n"
                               "NUM SOPORTE VALIDO HASTA / EXPIRY -\n\n"
                               "DNI 09828937W PWA007685 01032031\n",
                               {});
  EXPECT_EQ(Get(e, "nacimiento").value, "1967-12-19");
  EXPECT_EQ(Get(e, "caducidad").value, "2031-03-01");
  EXPECT_LT(Get(e, "caducidad").confidence, 0.8);
  EXPECT_NE(Get(e, "caducidad").reason.find("spaces lost"), std::string::npos);
  // Eight digits that are no date are not one.
  Extraction bad = ExtractFields("dni", "VALIDO HASTA\n99999999\n", {});
  ASSERT_TRUE(bad.fields.count("caducidad"));
  EXPECT_FALSE(Get(bad, "caducidad").valid);
}

// Labels as OCR mangles them: "nº" read as "n®" or "ne", a quote after
// "IVA", the "%)" of the rate lost (read, but doubted).
TEST(ExtractTest, LabelsAndRatesAsOcrLeavesThem) {
  EXPECT_EQ(ExtractFields("albaran", "Su pedido n\xC2\xAE: OC-24-3892\n", {}).fields["pedido"].value,
            "OC-24-3892");
  EXPECT_EQ(ExtractFields("albaran", "Su pedido ne: OC-22-6490\n", {}).fields["pedido"].value,
            "OC-22-6490");
  Extraction quote = ExtractFields("factura", "IVA'(10 %): 1.445,57 \xE2\x82\xAC\n", {});
  EXPECT_EQ(Get(quote, "iva_pct").value, "10");
  EXPECT_GE(Get(quote, "iva_pct").confidence, 0.8);
  Extraction lost = ExtractFields("factura", "IVA (21 1:132,74 \xE2\x82\xAC\n", {});
  EXPECT_EQ(Get(lost, "iva_pct").value, "21");
  EXPECT_LT(Get(lost, "iva_pct").confidence, 0.8);
  // A number that is no VAT rate is not taken for one without its sign.
  EXPECT_EQ(ExtractFields("factura", "IVA (13 132,74\n", {}).fields.count("iva_pct"), 0u);
}

TEST(ExtractTest, DniNumberFallsBackToMachineReadableZone) {
  Extraction e = ExtractFields("dni", "IDESPRMH523342166799794C<<<<<<\n", {});
  EXPECT_EQ(Get(e, "numero").value, "66799794C");
  EXPECT_LT(Get(e, "numero").confidence, 1.0);
}

TEST(ExtractTest, JustificanteAssignsIbansByLabelNotPosition) {
  // The beneficiary's account comes first on this page.
  constexpr std::string_view kText =
      "JUSTIFICANTE DE TRANSFERENCIA\n"
      "Fecha de operación: 10.12.2024\n"
      "Nº de referencia: 2024121026580892\n"
      "Cuenta de abono (IBAN): ES22 3664 5079 3145 8920 6721\n"
      "Cuenta de cargo (IBAN): ES68 1264 5693 9485 9583 2283\n"
      "Importe: 281,27 EUR\n"
      "Importe total cargado: 284,27 EUR\n";
  EXPECT_EQ(Values("justificante_bancario", kText),
            (Fields{{"fecha", "2024-12-10"},
                    {"importe", "281.27"},
                    {"iban_ordenante", "ES6812645693948595832283"},
                    {"iban_beneficiario", "ES2236645079314589206721"},
                    {"referencia", "2024121026580892"}}));
}

TEST(ExtractTest, JustificanteIbansBySectionWhenOnlyIbanLabels) {
  constexpr std::string_view kText =
      "DATOS DEL ORDENANTE\nIBAN: ES68 1264 5693 9485 9583 2283\n"
      "DATOS DEL BENEFICIARIO\nIBAN: ES22 3664 5079 3145 8920 6721\n";
  Extraction e = ExtractFields("justificante_bancario", kText, {});
  EXPECT_EQ(Get(e, "iban_ordenante").value, "ES6812645693948595832283");
  EXPECT_EQ(Get(e, "iban_beneficiario").value, "ES2236645079314589206721");
}

TEST(ExtractTest, RolesWithoutTheirSectionAreMissingNotGuessed) {
  // Two IBANs but no label or section saying whose is whose.
  constexpr std::string_view kText =
      "IBAN: ES68 1264 5693 9485 9583 2283\nIBAN: ES22 3664 5079 3145 8920 6721\n";
  Extraction e = ExtractFields("justificante_bancario", kText, {});
  EXPECT_EQ(e.fields.count("iban_ordenante"), 0U);
  EXPECT_EQ(e.fields.count("iban_beneficiario"), 0U);
  EXPECT_NE(std::find(e.missing.begin(), e.missing.end(), "iban_ordenante"), e.missing.end());
  EXPECT_NE(std::find(e.notes.begin(), e.notes.end(), "iban_ordenante: its section was not found"),
            e.notes.end());
}

TEST(ExtractTest, FacturaClientSectionDecidesEmisorAndCliente) {
  // The client's CIF is labelled "CIF" too; only the section tells them apart.
  constexpr std::string_view kText =
      "CIF: F31937774\nFACTURA\nDATOS DEL CLIENTE\nConstrucciones Urbión S.L.\n"
      "CIF: B50915305\nBase imponible: 10,00 €\n";
  Extraction e = ExtractFields("factura", kText, {});
  EXPECT_EQ(Get(e, "emisor_cif").value, "F31937774");
  EXPECT_EQ(Get(e, "cliente_nif").value, "B50915305");
}

TEST(ExtractTest, NominaFields) {
  constexpr std::string_view kText =
      "RECIBO INDIVIDUAL JUSTIFICATIVO DEL PAGO DE SALARIOS\n"
      "Empresa: Artes Gráficas Doñana S.A.\n"
      "CIF: A46020673 · C.C.C.: 30 6918282 00\n"
      "Trabajador/a: Sanz Gómez, Concepción\n"
      "NIF: 92961350L · Nº afiliación S.S.: 30/71231957/12\n"
      "Periodo de liquidación: del 01/02/2025 al 28/02/2025 (febrero de 2025) · Total días: 28\n"
      "A. TOTAL DEVENGADO 3.266,16\n"
      "B. TOTAL A DEDUCIR 799,57\n"
      "LÍQUIDO TOTAL A PERCIBIR (A - B) 2.466,59 €\n"
      "IBAN: ES77 7939 3593 7334 2817 7645\n";
  EXPECT_EQ(Values("nomina", kText), (Fields{{"empresa_cif", "A46020673"},
                                             {"trabajador_nif", "92961350L"},
                                             {"periodo", "2025-02"},
                                             {"bruto", "3266.16"},
                                             {"neto", "2466.59"},
                                             {"iban", "ES7779393593733428177645"}}));
}

TEST(ExtractTest, ContratoPartiesByTheirParagraph) {
  // The client is a company: its representative's NIF comes before its CIF.
  constexpr std::string_view kText =
      "En Bilbao, a 19 de enero de 2023.\nREUNIDOS\n"
      "De una parte, D. Francisco Cabrera Vidal, mayor de edad, con NIF 13163472C,\n"
      "en nombre y representación de Mantenimientos Tormes S. Coop., con CIF F02671030\n"
      "y domicilio social en Bilbao (en adelante, el\nPRESTADOR).\n"
      "De otra parte, Dña. Laura León Suárez, mayor de edad, con NIF 71165820W, en\n"
      "nombre y representación de Suministros Órbigo S.L., con CIF B33401209 (en adelante,\n"
      "el CLIENTE).\n"
      "El precio total de los servicios asciende a 27.200,00\xC2\xA0€ (VEINTISIETE MIL\n";
  EXPECT_EQ(Values("contrato", kText), (Fields{{"fecha", "2023-01-19"},
                                               {"prestador_cif", "F02671030"},
                                               {"cliente_nif", "B33401209"},
                                               {"importe", "27200.00"}}));
  // A person as client: the NIF of the paragraph.
  constexpr std::string_view kPerson =
      "De una parte, con NIF 13163472C, en nombre y representación de X, con CIF F02671030 "
      "(en adelante, el PRESTADOR).\n"
      "De otra parte, Dña. Laura León Suárez, mayor de edad, con NIF 71165820W y\n"
      "domicilio en Bilbao (en adelante, el CLIENTE).\n";
  EXPECT_EQ(Values("contrato", kPerson)["cliente_nif"], "71165820W");
}

// Found on the tuning set (seed 1500): OCR split "14.200,00" after its
// thousands dot and the contract's price was read as 14.00 and accepted;
// it cut a claim number after its dash, and caught a speck after an order
// number. Each is now read whole, and sent to a person.
TEST(ExtractTest, NumbersOcrSplitAreJoinedAndDoubted) {
  Extraction c = ExtractFields(
      "contrato", "El precio total de los servicios asciende a 14. 200,00 € (CATORCE MIL\n", {});
  ASSERT_TRUE(c.fields.count("importe"));
  EXPECT_EQ(c.fields["importe"].value, "14200.00");
  EXPECT_LT(c.fields["importe"].confidence, 0.8);
  Extraction c2 = ExtractFields(
      "contrato", "El precio total de los servicios asciende a 38. 050, 00€ (TREINTA Y OCHO\n", {});
  EXPECT_EQ(c2.fields["importe"].value, "38050.00");
  EXPECT_LT(c2.fields["importe"].confidence, 0.8);
  Extraction r = ExtractFields("reclamacion", "Nº de reclamación: REC-2022- 932290\n", {});
  ASSERT_TRUE(r.fields.count("numero"));
  EXPECT_EQ(r.fields["numero"].value, "REC-2022-932290");
  EXPECT_LT(r.fields["numero"].confidence, 0.8);
  Extraction a = ExtractFields("albaran", "Su pedido nº: P20234082-\n", {});
  ASSERT_TRUE(a.fields.count("pedido"));
  EXPECT_EQ(a.fields["pedido"].value, "P20234082");
  EXPECT_LT(a.fields["pedido"].confidence, 0.8);
  EXPECT_NE(a.fields["pedido"].reason.find("trailing '-'"), std::string::npos)
      << a.fields["pedido"].reason;
}

TEST(ExtractTest, ReclamacionFields) {
  constexpr std::string_view kText =
      "RECLAMACIÓN\nNº de reclamación: R23/80877\nFecha: 20/01/2023\n"
      "DATOS DEL RECLAMANTE\nNIF/NIE: 14312734H\nDATOS DEL SUMINISTRO\n"
      "CUPS: ES 0686 2403 7703 5645 AJ\n"
      "acredita la factura nº GN2396732448, de 308,74 €.\n";
  EXPECT_EQ(Values("reclamacion", kText), (Fields{{"numero", "R23/80877"},
                                                  {"fecha", "2023-01-20"},
                                                  {"reclamante_nif", "14312734H"},
                                                  {"cups", "ES0686240377035645AJ"}}));
}

TEST(ExtractTest, AlbaranFields) {
  constexpr std::string_view kText =
      "CIF: F14426936 · Tel.: 966 364 248\nALBARÁN DE ENTREGA\n"
      "Nº de albarán: AE22/0451\nFecha: 04.06.2022\nSu pedido nº: PED-92234\n"
      "Cliente / Dirección de entrega\nSuministros Técnicos Órbigo S.L.\nCIF: B33401209\n";
  EXPECT_EQ(Values("albaran", kText), (Fields{{"numero", "AE22/0451"},
                                              {"pedido", "PED-92234"},
                                              {"fecha", "2022-06-04"},
                                              {"emisor_cif", "F14426936"}}));
}

TEST(ExtractTest, ToleratesOcrNoiseInLabels) {
  // Nº read as "N2" or "N?", a ';' for ':', accents lost, extra spaces, a
  // label and its value on consecutive lines, an amount glued to its €.
  constexpr std::string_view kText =
      "CIF  B18337204\nFactura\nN2 de factura;  A/2024/124\nFecha de factura:\n\n"
      "30-08-2024\nDATOS DEL CLIENTE\nNIF:\n52081171V\nBase imponible 662,60 €\n"
      "IVA (10 %): 66,26 €\nTOTAL FACTURA:  728,86€\niban ES75 4564 7920 6786 8795 8918\n";
  Extraction e = ExtractFields("factura", kText, {});
  EXPECT_TRUE(e.missing.empty());
  EXPECT_EQ(Get(e, "numero").value, "A/2024/124");
  EXPECT_EQ(Get(e, "fecha").value, "2024-08-30");
  EXPECT_EQ(Get(e, "cliente_nif").value, "52081171V");
  EXPECT_EQ(Get(e, "total").value, "728.86");
  EXPECT_EQ(Get(e, "iban").value, "ES7545647920678687958918");
  EXPECT_LT(Get(e, "fecha").confidence, 1.0);  // value on the next line
  EXPECT_EQ(Values("reclamacion", "N? de reclamacion: REC-2024-355199\nNIF/NTE: 14312734H\n"),
            (Fields{{"numero", "REC-2024-355199"}, {"reclamante_nif", "14312734H"}}));
  EXPECT_EQ(Values("dni", "FECHA:-DE NACIMIENTO / DATE OF BIRTH\n\n01 07 2001\n")["nacimiento"],
            "2001-07-01");
  EXPECT_EQ(Values("albaran", "Su pedido n*: OC-23-1048\n")["pedido"], "OC-23-1048");
}

TEST(ExtractTest, RepairedIdRecordsItsSubstitution) {
  Extraction e = ExtractFields("reclamacion", "DATOS DEL RECLAMANTE\nNIF: 5436231S-K\n", {});
  const ExtractedField& f = Get(e, "reclamante_nif");
  EXPECT_EQ(f.value, "54362315K");
  EXPECT_EQ(f.raw, "5436231S-K");
  EXPECT_TRUE(f.valid);
  ASSERT_EQ(f.repairs.size(), 1U);
  EXPECT_EQ(f.repairs[0].position, 7U);
  EXPECT_EQ(f.repairs[0].from, 'S');
  EXPECT_EQ(f.repairs[0].to, '5');
  EXPECT_LT(f.confidence, 1.0);
  EXPECT_NE(f.reason.find("repaired 1 OCR confusion"), std::string::npos) << f.reason;
}

TEST(ExtractTest, InvalidValueIsKeptWithItsReason) {
  Extraction e = ExtractFields("nomina", "Trabajador/a: X\nNIF: 12345678A\n", {});
  const ExtractedField& f = Get(e, "trabajador_nif");
  EXPECT_EQ(f.value, "12345678A");
  EXPECT_FALSE(f.valid);
  EXPECT_EQ(f.reason, "trabajador_nif: nif: check letter should be Z, not A");
  Extraction d = ExtractFields("albaran", "Fecha: 31/02/2024\n", {});
  EXPECT_FALSE(Get(d, "fecha").valid);
  EXPECT_EQ(Get(d, "fecha").reason, "fecha: not a calendar date: 31/02/2024");
  Extraction p = ExtractFields("factura", "IVA (37 %): 3,70 €\n", {});
  EXPECT_FALSE(Get(p, "iva_pct").valid);
  EXPECT_EQ(Get(p, "iva_pct").reason, "iva_pct: 37 is not a Spanish VAT rate");
}

TEST(ExtractTest, UnreadableValueIsMissingWithANote) {
  Extraction e = ExtractFields("albaran", "Nº de albarán: (ver adjunto)\n", {});
  EXPECT_EQ(e.fields.count("numero"), 0U);
  EXPECT_NE(std::find(e.notes.begin(), e.notes.end(),
                      "numero: label found, but no value could be read after it"),
            e.notes.end());
  EXPECT_EQ(e.missing, (std::vector<std::string>{"numero", "pedido", "fecha", "emisor_cif"}));
}

TEST(ExtractTest, FacturaWhoseTotalsDoNotAddUpIsInvalid) {
  std::string text(kFactura);
  text.replace(text.find("728,86"), 6, "738,86");
  Extraction e = ExtractFields("factura", text, {});
  for (const char* name : {"base", "iva", "total"}) {
    EXPECT_FALSE(Get(e, name).valid) << name;
    EXPECT_EQ(Get(e, name).reason, "factura: base + iva is 728.86, not total 738.86") << name;
  }
  EXPECT_TRUE(Get(e, "iva_pct").valid);
  EXPECT_NE(
      std::find(e.notes.begin(), e.notes.end(), "factura: base + iva is 728.86, not total 738.86"),
      e.notes.end());
}

TEST(ExtractTest, CheckConsistencyRules) {
  auto field = [](std::string v) {
    ExtractedField f;
    f.value = std::move(v);
    f.valid = true;
    return f;
  };
  std::map<std::string, ExtractedField> factura = {{"base", field("100.00")},
                                                   {"iva_pct", field("21")},
                                                   {"iva", field("20.00")},
                                                   {"total", field("120.00")}};
  auto problems = CheckConsistency("factura", &factura);
  EXPECT_EQ(problems,
            (std::vector<std::string>{"factura: base x iva_pct / 100 is 21.00, not iva 20.00"}));
  EXPECT_FALSE(factura["iva_pct"].valid);
  EXPECT_TRUE(factura["total"].valid);
  std::map<std::string, ExtractedField> nomina = {{"bruto", field("1000.00")},
                                                  {"neto", field("1200.00")}};
  EXPECT_EQ(CheckConsistency("nomina", &nomina),
            (std::vector<std::string>{"nomina: neto 1200.00 is more than bruto 1000.00"}));
  EXPECT_FALSE(nomina["neto"].valid);
  std::map<std::string, ExtractedField> ok = {{"bruto", field("1000.00")},
                                              {"neto", field("800.00")}};
  EXPECT_TRUE(CheckConsistency("nomina", &ok).empty());
  EXPECT_TRUE(ok["neto"].valid);
}

TEST(ExtractTest, OcrWordConfidenceLowersFieldConfidence) {
  std::vector<WordConfidence> words = {{"CUPS:", 96}, {"ES0686240377035645AJ", 61}};
  Extraction e = ExtractFields("reclamacion", "CUPS: ES0686240377035645AJ\n", words);
  EXPECT_NEAR(Get(e, "cups").confidence, 0.61, 1e-6);
}

TEST(ExtractTest, FieldNamesPerType) {
  EXPECT_EQ(FieldNames("albaran"),
            (std::vector<std::string>{"numero", "pedido", "fecha", "emisor_cif"}));
  EXPECT_EQ(FieldNames("factura").size(), 9U);
  EXPECT_TRUE(FieldNames("otro").empty());
  EXPECT_TRUE(FieldNames("").empty());
  EXPECT_TRUE(ExtractFields("otro", kFactura, {}).fields.empty());
}

TEST(ExtractTest, GarbageEmptyAndHugeInputNeverCrash) {
  for (const auto& type : {"factura", "dni", "justificante_bancario", "nomina", "contrato",
                           "reclamacion", "albaran"}) {
    Extraction empty = ExtractFields(type, "", {});
    EXPECT_TRUE(empty.fields.empty());
    EXPECT_EQ(empty.missing, FieldNames(type));
    std::mt19937 rng(42);
    std::string bytes(1 << 16, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    (void)ExtractFields(type, bytes, {{"\xFF\xFE", 50}});
    // Invalid UTF-8 inside labels and values.
    (void)ExtractFields(type, "N\xBA de factura: \xC3\x28\nCIF: \xE2\x82\nIBAN: ES\xFF\n", {});
    // Megabytes of labels with no values, and one line of a megabyte.
    std::string labels;
    while (labels.size() < (2U << 20)) labels += "NIF: CIF IBAN Fecha: Importe: DNI ";
    (void)ExtractFields(type, labels, {});
    std::string lines;
    while (lines.size() < (2U << 20)) lines += "Nº de factura:\n";
    (void)ExtractFields(type, lines, {});
  }
}

// Every field of every committed born-digital sample is read exactly from
// the text drawn on it.
TEST(ExtractSamplesTest, EveryFieldOfEveryBornDigitalSample) {
  const char* root = std::getenv("CUSTODIA_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "CUSTODIA_SOURCE_DIR is not set";
  int samples = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(root) / "samples")) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 14 || name.substr(name.size() - 14) != ".expected.json") continue;
    std::ifstream in(entry.path());
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << name;
    if (!j["degradation"].is_null()) continue;  // a scan: its text is OCR's, not this
    ++samples;
    const std::string type = j["type"];
    Extraction e = ExtractFields(type, j["text"].get<std::string>(), {});
    for (const auto& [field, expected] : j["fields"].items()) {
      const ExtractedField& f = Get(e, field);
      EXPECT_EQ(f.value, expected.get<std::string>()) << name << ": " << field;
      EXPECT_TRUE(f.valid) << name << ": " << field << ": " << f.reason;
    }
    EXPECT_TRUE(e.missing.empty()) << name;
  }
  EXPECT_EQ(samples, 7);
}

}  // namespace
}  // namespace custodia::classify
