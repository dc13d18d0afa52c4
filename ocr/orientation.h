// ocr/orientation.h (internal): which way up a page is, and turning it.
#ifndef CUSTODIA_OCR_ORIENTATION_H_
#define CUSTODIA_OCR_ORIENTATION_H_

#include <array>
#include <memory>
#include <optional>
#include <string>

#include "base/image.h"
#include "base/result.h"
#include "ocr/leptonica.h"
#include "ocr/ocr.h"

namespace tesseract {
class TessBaseAPI;
}

namespace custodia::ocr {

// Resolution assumed when an image does not say: what scanners use for
// documents, and what Tesseract's models are tuned for.
inline constexpr int kDefaultDpi = 300;

// `image` turned clockwise by `quarter_turns` x 90 degrees (any integer,
// taken modulo 4). The result is packed (stride = width x channels) and
// keeps the dpi. REQUIRES: `image` is well formed.
Image RotateQuarterTurns(const Image& image, int quarter_turns);

// The orientation half of an Engine: Tesseract's OSD model, loaded on first
// use, and the fallback that reads a text region with the Engine's own
// models. Not thread-safe, like the Engine that owns it.
class OrientationDetector {
 public:
  // `datapath`: the tessdata folder the Engine's models came from.
  OrientationDetector(std::string datapath, float osd_min_confidence);
  OrientationDetector(const OrientationDetector&) = delete;
  OrientationDetector& operator=(const OrientationDetector&) = delete;
  ~OrientationDetector();

  // REQUIRES: `image` is well formed and not empty. `ocr` is the Engine's
  // recogniser: its page state is cleared and its page segmentation mode
  // restored on return. kInternal if Leptonica or Tesseract fail outright.
  Result<Orientation> Detect(tesseract::TessBaseAPI& ocr, const Image& image);

 private:
  struct Guess {
    int quarter_turns = 0;
    float confidence = 0;
  };
  // OSD's best guess; nullopt when the model is missing or OSD found
  // nothing to go on.
  std::optional<Guess> RunOsd(PIX* gray, int dpi);
  // The fallback: the mean word confidence of a text region read at each
  // turn, `first_turns` first; 0 where the reading is not text, or where
  // it was not read because an earlier turn read well enough.
  using TurnConfidences = std::array<float, 4>;
  Result<TurnConfidences> ReadTurns(tesseract::TessBaseAPI& ocr, PIX* gray, int dpi,
                                    int first_turns);

  std::string datapath_;
  float osd_min_confidence_;
  std::unique_ptr<tesseract::TessBaseAPI> osd_;
  bool osd_unavailable_ = false;
};

}  // namespace custodia::ocr

#endif  // CUSTODIA_OCR_ORIENTATION_H_
