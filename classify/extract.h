// classify/extract.h: the fields of each document type, read from its text
// by their labels, in canonical form, validated, each with a confidence.
// A value is never guessed: what cannot be read is missing, with a note.
// Pure functions; any bytes are accepted, and the work is linear in the
// text. The rules: docs/extraction.md.
#ifndef CUSTODIA_CLASSIFY_EXTRACT_H_
#define CUSTODIA_CLASSIFY_EXTRACT_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classify/validate.h"

namespace custodia::classify {

// One OCR word and its confidence, 0..100 (Tesseract's scale).
struct WordConfidence {
  std::string text;
  float confidence = 0;
};

struct ExtractedField {
  std::string value;                  // canonical: "2024-03-12", "1234.56", "B64717838"
  double confidence = 0;              // 0..1: how sure the match is x the OCR of its words
  bool valid = false;                 // false: read, but fails its check (see `reason`)
  std::string reason;                 // why invalid, or why the confidence is low; "" if neither
  std::string raw;                    // the text as read, before canonical form
  std::vector<Substitution> repairs;  // OCR repairs made to an id (RepairId)
  bool doubted = false;  // read with a doubt of how (a lost accent, spaces, a % sign): the
                         // same page read again would doubt it the same way
};

struct Extraction {
  std::map<std::string, ExtractedField> fields;  // found fields, valid or not
  std::vector<std::string> missing;              // fields of the type not found; each has a note
  std::vector<std::string> notes;                // "cliente_nif: no label found", ...
};

// The fields of `type` ("factura", "dni", "justificante_bancario", "nomina",
// "contrato", "reclamacion", "albaran"), in document order; empty for any
// other type.
const std::vector<std::string>& FieldNames(std::string_view type);

// What a field holds: it decides how the field is read and its canonical
// form (docs/extraction.md, "Fields").
enum class FieldKind {
  kDate,
  kAmount,
  kTaxId,  // any NIF: DNI, NIE, K/L/M or CIF
  kIban,
  kCups,
  kRef,  // a document number: "A/2024/124", "PED-92234"
  kPeriod,
  kPercent,
  kName,
};

// The kind of `field` of `type`; nullopt when `type` has no such field.
std::optional<FieldKind> KindOf(std::string_view type, std::string_view field);

// True if `pct`, in canonical form ("21", "10.5"), is a Spanish VAT rate:
// what makes an iva_pct valid.
bool IsSpanishVatRate(std::string_view pct);

// ASCII upper case, and the Latin-1 lower-case letters (á é í ó ú ñ ü ...)
// in their upper-case form: how names are written.
std::string UpperCase(std::string_view s);

// Reads the fields of `type` from `text`. `words` are the OCR words of the
// text with their confidences; an empty list means a text layer (a
// born-digital PDF), read with full confidence. Runs CheckConsistency on
// what it found. An unknown type gives an empty Extraction.
Extraction ExtractFields(std::string_view type, std::string_view text,
                         const std::vector<WordConfidence>& words);

// The cross-field rules of `type`: in a factura base + iva = total and
// iva = base x iva_pct / 100, each within 0.01; in a nomina neto <= bruto.
// Marks the fields of a broken rule invalid, with the rule as their reason,
// and returns one line per broken rule. Rules whose fields are missing or
// already invalid are not checked. A factura whose two rules both hold
// (base at least 10, where the rates are far enough apart to tell) has its
// base, iva, total and iva_pct at least 0.9 confident, saying so: a misread
// digit or rate in any of the four breaks one rule or the other.
std::vector<std::string> CheckConsistency(std::string_view type,
                                          std::map<std::string, ExtractedField>* fields);

}  // namespace custodia::classify

#endif  // CUSTODIA_CLASSIFY_EXTRACT_H_
