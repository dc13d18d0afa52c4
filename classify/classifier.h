// classify/classifier.h: the trainable document-type classifier (internal to
// classify/; callers use classify/classify.h). Naive Bayes over OCR-robust
// features of the text; see docs/classifier.md for features, calibration,
// the model format and how the default model is trained.
#ifndef CUSTODIA_CLASSIFY_CLASSIFIER_H_
#define CUSTODIA_CLASSIFY_CLASSIFIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace custodia::classify {

// The answer when no trained type is sure enough (short, garbage or unknown
// text). It can never be a trained type.
inline constexpr std::string_view kOtherType = "otro";

struct LabelledText {
  std::string type;  // [a-z0-9_]+, not "otro"
  std::string text;  // any bytes; UTF-8 expected
};

class TypeModel {
 public:
  // Trains on `examples` (at least two types). Deterministic: the same
  // examples in the same order give the same model, byte for byte. Each
  // example is also learnt from copies with synthetic OCR noise.
  static Result<TypeModel> Train(const std::vector<LabelledText>& examples);

  // This model with `examples` added to its counts, each counted `weight`
  // times (with its noisy copies, as Train counts one), its calibration
  // kept: how corrections made in review teach the default model
  // (custodia train). kInvalidArgument for a type the model does not have,
  // or a weight outside 1..1000.
  Result<TypeModel> Extend(const std::vector<LabelledText>& examples, int weight) const;

  // Reads the output of Serialize() ("custodia-type-model 1", text). Errors
  // are kCorruption naming the line and what is wrong with it.
  static Result<TypeModel> Parse(std::string_view bytes);

  // The model embedded in the library (classify/model/default.model).
  static const TypeModel& Default();

  std::string Serialize() const;

  struct Prediction {
    std::string type;   // a trained type, or "otro"
    double confidence;  // 0..1: how likely `type` is right; low for "otro"
    // Every trained type with its calibrated probability, best first.
    std::vector<std::pair<std::string, double>> ranked;
  };
  // Any bytes (invalid UTF-8, empty, megabytes): never fails; reads at most
  // the first kMaxTokens words.
  Prediction Predict(std::string_view text) const;

  const std::vector<std::string>& Types() const;

  static constexpr int kMaxTokens = 20000;

 private:
  struct Impl;                        // counts, calibration and log-probabilities (classifier.cc)
  std::shared_ptr<const Impl> impl_;  // immutable: copies are cheap
};

// `text` as a poor OCR engine might read it (character confusions, lost
// accents, spaces and lines, junk marks); deterministic in `seed`. `level`
// 1 is light, 2 heavy. Train() learns from such copies; evaluation uses it.
std::string AddOcrNoise(std::string_view text, std::uint64_t seed, int level);

}  // namespace custodia::classify

#endif  // CUSTODIA_CLASSIFY_CLASSIFIER_H_
