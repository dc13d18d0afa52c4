// classify/classify.h: a document's type, its fields and its route, from
// its text. Pure functions of their inputs (and of the model).
//
// The type comes from a trained model (classify/classifier.h), the fields
// from label-anchored extractors, canonicalised and validated
// (classify/extract.h, classify/validate.h). A document is routed "auto"
// only when its type is sure and every field of its type is present, valid
// and confidently read; otherwise "review", with every reason.
#ifndef CUSTODIA_CLASSIFY_CLASSIFY_H_
#define CUSTODIA_CLASSIFY_CLASSIFY_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace custodia::classify {

class TypeModel;

struct Field {
  std::string value;      // canonical form
  double confidence = 0;  // 0..1
  bool valid = false;
  std::string reason;                // why not valid, or why unsure; "" if neither
  std::string raw;                   // as read
  std::vector<std::string> repairs;  // OCR confusions repaired: "7: S -> 5"
  // Read with a doubt of how the text is to be taken (an accent OCR may have
  // lost, a date whose spaces were lost, a rate without its % sign): a
  // second reading of the page would doubt it the same way, so it cannot
  // confirm it (Confirm). Set at ingest; not kept in ToJson.
  bool doubted = false;
};

struct Classification {
  std::string type;  // "factura", ..., "otro"
  double type_confidence = 0;
  std::string status;  // "auto" or "review"
  std::map<std::string, Field> fields;
  std::vector<std::string> reasons;  // why "review"; empty for "auto"
};

// One OCR word and its confidence (0..100), in reading order. Words of a
// text layer are not given: that text is read with certainty.
struct OcrWord {
  std::string text;
  float confidence = 0;
};

// When a document goes to review (docs/classify.md says why these).
struct RoutingPolicy {
  double min_type_confidence = 0.90;
  double min_field_confidence = 0.60;
};

// Classifies `text` with `model` (the default model when null).
Classification Classify(std::string_view text, const std::vector<OcrWord>& words = {},
                        const TypeModel* model = nullptr, const RoutingPolicy& policy = {});

// A document whose type a person decided, for `custodia train`.
struct Example {
  std::string type;  // one of DocumentTypes() but "otro"
  std::string text;
};

// The default model with `examples` added, each counted `weight` times
// (docs/classifier.md, "Training on corrections"), serialised. The same
// examples give the same bytes. kInvalidArgument for "otro" or an unknown
// type (naming it), or a weight outside 1..1000.
Result<std::string> ExtendDefaultModel(const std::vector<Example>& examples, int weight);

// A model serialised by ExtendDefaultModel, for Classify. kCorruption
// naming the line that is wrong.
Result<std::shared_ptr<const TypeModel>> LoadModel(std::string_view bytes);

// Routes `c` again after its type or fields changed (in review): sets
// status and reasons from its type, fields and type confidence.
void Route(Classification* c, const RoutingPolicy& policy = {});

// The fields each type has; empty for "otro" and unknown types.
const std::vector<std::string>& FieldsOf(std::string_view type);

// Every document type, as a reviewer may choose one: factura, dni,
// justificante_bancario, nomina, contrato, reclamacion, albaran, otro.
const std::vector<std::string>& DocumentTypes();

// Corrections in review (docs/classify.md): a person types a field's value
// or chooses the type, and the document is checked and routed again.

// The value a person typed for `field` of `type`, in the canonical form the
// extractor writes (docs/extraction.md): value canonical, confidence 1,
// valid, raw as typed, reason empty. Nothing is repaired: a person typed it.
// Errors are kInvalidArgument, naming the field, what is wrong and the form
// expected: a value that does not read or fails its validator, an empty one
// or one over 256 bytes, a field not of `type` or a type without fields.
// Any bytes are accepted.
Result<Field> ParseCorrection(std::string_view type, std::string_view field,
                              std::string_view value);

// After fields of `c` were corrected: runs the cross-field rules of c->type
// again (factura: base + iva = total, iva = base x iva_pct / 100; nomina:
// neto <= bruto), first making valid again each field whose only fault was
// a broken rule, then routes `c` (Route). So correcting a misread total
// makes base, iva and total valid once they add up.
void Revalidate(Classification* c, const RoutingPolicy& policy = {});

// As Classify, with the type chosen by a person: type = `type`,
// type_confidence = 1, the fields of that type read from `text` and
// `words`, routed. A type without fields ("otro", or a name outside
// DocumentTypes(), which callers should refuse first) is kept as given,
// with no fields, and goes to review.
Classification ClassifyAs(std::string_view type, std::string_view text,
                          const std::vector<OcrWord>& words = {}, const RoutingPolicy& policy = {});

// A scanned document read a second time, differently (pipeline: the page
// cleaned without binarization), gives `second`, a ClassifyAs of `c`'s type
// on that reading's text and words. Each field of c's type is settled from
// both readings, then checked and routed again (Revalidate):
//  - both read it valid with the same value, and not both with a doubt of
//    how (Field::doubted): the two OCR readings are taken as independent
//    evidence, confidence 1 - (1 - a)(1 - b), "confirmed by a second reading";
//  - only the second read it valid (missing or invalid in the first): the
//    second's field, "from a second reading";
//  - both valid with different values: the surer one, its confidence times
//    0.6 and at most 0.5 (so a person looks), "a second reading gives V";
//    but a doubted second value (an accent lost that the first kept) leaves
//    an undoubted first as it was;
//  - otherwise the first's field as it was.
// Nothing is done when `second` is of another type.
void Confirm(Classification* c, const Classification& second, const RoutingPolicy& policy = {});

// The classification as the vault keeps it (a JSON object: type_confidence,
// reasons, fields), and back; type and status are kept beside it.
std::string ToJson(const Classification& c);
Classification FromJson(std::string_view type, std::string_view status, std::string_view json);

}  // namespace custodia::classify

#endif  // CUSTODIA_CLASSIFY_CLASSIFY_H_
