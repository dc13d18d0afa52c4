// classify/fields_fuzz.cc: libFuzzer target over everything classify reads
// from a document's text: the classifier, every type's field extractors,
// the id validators and their OCR repair, the canonical forms of dates,
// amounts and periods, and a reviewer's correction. Any bytes must give an
// answer, never a crash, a hang or a leak (issue 8). Built with -DCU_FUZZ=ON
// (clang); run by scripts/fuzz.sh on the texts of samples/.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classify/classify.h"
#include "classify/extract.h"
#include "classify/validate.h"

using namespace custodia::classify;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The whole path, as for a born-digital page and as for an OCR'd one
  // (each word with a confidence taken from the input).
  (void)Classify(text);
  std::vector<OcrWord> words;
  std::size_t at = 0;
  while (at < text.size() && words.size() < 64) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    words.push_back(OcrWord{std::string(text.substr(at, end - at)),
                            static_cast<float>(static_cast<std::uint8_t>(text[at]) % 101)});
    at = end + 1;
  }
  Classification c = Classify(text, words);
  Route(&c);

  std::vector<WordConfidence> confidences;
  for (const OcrWord& w : words) confidences.push_back(WordConfidence{w.text, w.confidence});
  for (const std::string& type : DocumentTypes()) {
    (void)ExtractFields(type, text, {});
    (void)ExtractFields(type, text, confidences);
    // A reviewer typing this text as each field's value.
    for (const std::string& field : FieldsOf(type)) (void)ParseCorrection(type, field, text);
  }

  for (IdKind kind : {IdKind::kDni, IdKind::kNie, IdKind::kCif, IdKind::kNif, IdKind::kIban,
                      IdKind::kCcc, IdKind::kCups}) {
    (void)Validate(kind, text);
    (void)CanonicaliseId(kind, text);
    (void)RepairId(kind, text);
  }
  (void)CanonicaliseDate(text);
  (void)CanonicaliseAmount(text);
  (void)CanonicalisePeriod(text);
  return 0;
}
