// ocr/orientation.cc: page orientation by Tesseract's OSD, and by reading a
// text region at each quarter turn when OSD cannot tell. The numbers below
// were measured on the pages listed in docs/ocr.md.
#include "ocr/orientation.h"

#include <tesseract/baseapi.h>
#include <tesseract/osdetect.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace custodia::ocr {
namespace {

// OSD reads a copy scaled down to this resolution (never up). On the linn
// page (300 dpi) it is as fast at 200 as at 150 dpi and clearly surer
// (orientation confidence 24-28 against 14-20); at 300 dpi, slower.
constexpr double kOsdDpi = 200;
// The fallback reads a square of this side: at 10-12 pt, 6 to 9 lines.
constexpr double kWindowInches = 4.0 / 3.0;
// ... at no more than this resolution (a 600-dpi square is scaled down).
constexpr double kMaxReadDpi = 300;
// Ink blobs whose longer side is within these bounds count as characters
// (or, on a blurred page, words) when choosing the square: speckles are
// smaller, scanner borders, rules and photos larger.
constexpr double kMinCharInches = 0.04;
constexpr double kMaxCharInches = 0.6;
// The page is smoothed with a box of 2r+1 pixels, r = dpi / this, before
// it is binarized for choosing the square.
constexpr double kSmoothDpi = 300;
// A square with fewer characters than this has nothing to read.
constexpr int kMinChars = 8;
// A turn whose reading has fewer letters and digits than this is not text.
constexpr int kMinLetters = 8;
// A turn read with at least this mean word confidence, and clearly better
// than the opposite turn, wins without reading the sideways turns: turned
// text rarely reads above 60, clean upright text at 80 to 95 (docs/ocr.md).
constexpr float kSureConfidence = 80;
// When OSD was unsure, the fallback overrules its guess only if the best
// turn reads this many points better than OSD's turn.
constexpr float kMinLead = 5;

// Restores the recogniser's page segmentation mode and clears its page
// state on every exit path.
class RestoreOnExit {
 public:
  explicit RestoreOnExit(tesseract::TessBaseAPI* api) : api_(api), mode_(api->GetPageSegMode()) {}
  RestoreOnExit(const RestoreOnExit&) = delete;
  RestoreOnExit& operator=(const RestoreOnExit&) = delete;
  ~RestoreOnExit() {
    api_->Clear();
    api_->SetPageSegMode(mode_);
  }

 private:
  tesseract::TessBaseAPI* api_;
  tesseract::PageSegMode mode_;
};

// Letters and digits in UTF-8 `text`: ASCII alphanumerics plus one per
// multi-byte character (accented letters, in Spanish).
int CountLetters(const char* text) {
  int n = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xC0) {
      ++n;
    }
  }
  return n;
}

// How well the recogniser's last page reads as words: the mean word
// confidence weighted by length, where a word of fewer than four letters
// and digits counts as confidence 0. Turned text reads as short fragments
// ("wey", "nov", "oo"), some of them confidently; upright text, even
// blurred, as long words and numbers.
float WordScore(tesseract::TessBaseAPI& ocr) {
  std::unique_ptr<tesseract::ResultIterator> it(ocr.GetIterator());
  if (it == nullptr || it->Empty(tesseract::RIL_WORD)) return 0;
  double score = 0, total = 0;
  do {
    std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
    if (!word) continue;
    int chars = 0;  // code points
    for (const char* p = word.get(); *p != '\0'; ++p) {
      if ((static_cast<unsigned char>(*p) & 0xC0) != 0x80) ++chars;
    }
    total += chars;
    if (CountLetters(word.get()) >= 4) score += static_cast<double>(it->Confidence(tesseract::RIL_WORD)) * chars;
  } while (it->Next(tesseract::RIL_WORD));
  return total > 0 ? static_cast<float>(score / total) : 0;
}

struct Window {
  int left = 0, top = 0, side = 0;
  int chars = 0;  // character-sized ink blobs centred inside
};

// The square of `side` pixels of `binary` (1 bpp) whose centre-counted
// character-sized blobs are the most. Counting blobs by size, and not
// edges or ink, keeps speckles, noise, dark scanner borders and photos
// from winning, and favours no turn. Squares start on a grid of a quarter
// side.
Window FindTextWindow(PIX* binary, int side, int dpi) {
  const int w = pixGetWidth(binary), h = pixGetHeight(binary);
  const int cell = std::max(1, side / 4);
  const int cols = (w + cell - 1) / cell, rows = (h + cell - 1) / cell;
  // A 2-D prefix sum over cells: at(r, c) counts the blobs in cells above
  // and left of (r, c).
  std::vector<int> sum(static_cast<std::size_t>(rows + 1) * (cols + 1), 0);
  auto at = [&](int r, int c) -> int& { return sum[static_cast<std::size_t>(r) * (cols + 1) + c]; };
  const int min_char = static_cast<int>(std::lround(kMinCharInches * dpi));
  const int max_char = static_cast<int>(std::lround(kMaxCharInches * dpi));
  BoxaPtr boxes(pixConnCompBB(binary, 8));
  const int n = boxes ? boxaGetCount(boxes.get()) : 0;
  for (int i = 0; i < n; ++i) {
    l_int32 x = 0, y = 0, bw = 0, bh = 0;
    if (boxaGetBoxGeometry(boxes.get(), i, &x, &y, &bw, &bh) != 0) continue;
    const int longer = std::max(bw, bh);
    if (longer < min_char || longer > max_char) continue;
    ++at((y + bh / 2) / cell + 1, (x + bw / 2) / cell + 1);
  }
  for (int r = 1; r <= rows; ++r) {
    for (int c = 1; c <= cols; ++c) at(r, c) += at(r - 1, c) + at(r, c - 1) - at(r - 1, c - 1);
  }
  Window best{0, 0, side, -1};
  const int span = (side + cell - 1) / cell;  // cells a square covers
  auto starts = [cell](int extent, int window) {
    std::vector<int> out;
    for (int s = 0; s + window <= extent; s += cell) out.push_back(s);
    if (out.empty() || out.back() != extent - window) out.push_back(extent - window);
    return out;
  };
  for (int top : starts(h, side)) {
    for (int left : starts(w, side)) {
      const int r0 = top / cell, c0 = left / cell;
      const int r1 = std::min(rows, r0 + span), c1 = std::min(cols, c0 + span);
      const int chars = at(r1, c1) - at(r0, c1) - at(r1, c0) + at(r0, c0);
      if (chars > best.chars) best = Window{left, top, side, chars};
    }
  }
  return best;
}

}  // namespace

Image RotateQuarterTurns(const Image& image, int quarter_turns) {
  const int turns = ((quarter_turns % 4) + 4) % 4;
  const int w = image.width, h = image.height, ch = image.channels;
  Image out;
  out.width = (turns % 2 == 0) ? w : h;
  out.height = (turns % 2 == 0) ? h : w;
  out.channels = ch;
  out.stride = out.width * ch;
  out.dpi = image.dpi;
  out.pixels.resize(static_cast<std::size_t>(out.stride) * static_cast<std::size_t>(out.height));
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* src = image.row(y);
    for (int x = 0; x < w; ++x) {
      // Where source pixel (x, y) lands after `turns` clockwise turns.
      int dx = x, dy = y;
      switch (turns) {
        case 1:
          dx = h - 1 - y;
          dy = x;
          break;
        case 2:
          dx = w - 1 - x;
          dy = h - 1 - y;
          break;
        case 3:
          dx = y;
          dy = w - 1 - x;
          break;
        default:
          break;
      }
      std::copy_n(src + static_cast<std::ptrdiff_t>(x) * ch, ch,
                  out.pixels.data() + static_cast<std::ptrdiff_t>(dy) * out.stride +
                      static_cast<std::ptrdiff_t>(dx) * ch);
    }
  }
  return out;
}

OrientationDetector::OrientationDetector(std::string datapath, float osd_min_confidence)
    : datapath_(std::move(datapath)), osd_min_confidence_(osd_min_confidence) {}

OrientationDetector::~OrientationDetector() = default;

std::optional<OrientationDetector::Guess> OrientationDetector::RunOsd(PIX* gray, int dpi) {
  if (osd_ == nullptr && !osd_unavailable_) {
    auto api = std::make_unique<tesseract::TessBaseAPI>();
    // As in Engine::Open: Tesseract's warnings would garble our callers'
    // output.
    const std::vector<std::string> names = {"debug_file"};
    const std::vector<std::string> values = {"/dev/null"};
    if (api->Init(datapath_.c_str(), "osd", tesseract::OEM_DEFAULT, nullptr, 0, &names, &values,
                  false) != 0) {
      // No osd.traineddata (Debian: tesseract-ocr-osd): the fallback does
      // all the work. Not retried for every page.
      osd_unavailable_ = true;
      return std::nullopt;
    }
    api->SetPageSegMode(tesseract::PSM_OSD_ONLY);
    osd_ = std::move(api);
  }
  if (osd_ == nullptr) return std::nullopt;

  const double scale = std::min(1.0, kOsdDpi / dpi);
  PixPtr small(scale < 1 ? pixScale(gray, static_cast<float>(scale), static_cast<float>(scale))
                         : pixClone(gray));
  if (!small) return std::nullopt;
  osd_->SetImage(small.get());
  osd_->SetSourceResolution(static_cast<int>(std::lround(dpi * scale)));
  tesseract::OSResults results;
  const bool ok = osd_->DetectOS(&results);
  osd_->Clear();
  if (!ok) return std::nullopt;
  // orientation_id 0..3: the page is turned 0, 90, 180 or 270 degrees
  // clockwise from upright (osdetect.h), so this many more clockwise
  // quarter turns bring it back.
  const int id = results.best_result.orientation_id;
  return Guess{(4 - id) % 4, results.best_result.oconfidence};
}

Result<OrientationDetector::TurnConfidences> OrientationDetector::ReadTurns(
    tesseract::TessBaseAPI& ocr, PIX* gray, int dpi, int first_turns) {
  TurnConfidences confidence{};  // 0: not text, or not read
  // Smoothed a little, so that noise and dithering average out to paper,
  // then binarized against a normalised background, so that uneven light
  // and gray paper do not turn into ink.
  const int radius = std::max(1, static_cast<int>(std::lround(dpi / kSmoothDpi)));
  PixPtr smooth(pixBlockconv(gray, radius, radius));
  if (!smooth) return Fail(Code::kInternal, "ocr: orientation: cannot smooth the page");
  PixPtr binary(pixOtsuThreshOnBackgroundNorm(smooth.get(), nullptr, 10, 15, 100, 50, 255, 2, 2,
                                              0.1f, nullptr));
  if (!binary) return Fail(Code::kInternal, "ocr: orientation: cannot binarize the page");
  const int w = pixGetWidth(gray), h = pixGetHeight(gray);
  const int side = std::min({w, h, static_cast<int>(std::lround(kWindowInches * dpi))});
  const Window window = FindTextWindow(binary.get(), side, dpi);
  if (window.chars < kMinChars) return confidence;

  // The gray square: Tesseract's own binarization of it reads better, and
  // faster, than the smoothed one above.
  BoxPtr box(boxCreate(window.left, window.top, window.side, window.side));
  PixPtr crop(pixClipRectangle(gray, box.get(), nullptr));
  if (!crop) return Fail(Code::kInternal, "ocr: orientation: cannot crop the text region");
  int read_dpi = dpi;
  if (dpi > kMaxReadDpi) {
    const auto scale = static_cast<float>(kMaxReadDpi / dpi);
    crop.reset(pixScale(crop.get(), scale, scale));
    if (!crop) return Fail(Code::kInternal, "ocr: orientation: cannot scale the text region");
    read_dpi = static_cast<int>(kMaxReadDpi);
  }

  RestoreOnExit restore(&ocr);
  // One block of horizontal lines: a turned page then reads as garbage
  // instead of being recognised as vertical text, which PSM_AUTO does.
  ocr.SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  // The first guess, then its opposite, then the two sideways turns. Digits
  // and symbols ("0", "8", "<<<" of an ID card's machine-readable zone) read
  // well upside down too, so a sure read is trusted only against the read
  // of the opposite turn.
  constexpr int kOrder[4] = {0, 2, 1, 3};
  for (int i = 0; i < 4; ++i) {
    const int turns = (first_turns + kOrder[i]) % 4;
    PixPtr turned(pixRotateOrth(crop.get(), turns));
    if (!turned) return Fail(Code::kInternal, "ocr: orientation: cannot turn the text region");
    ocr.SetImage(turned.get());
    ocr.SetSourceResolution(read_dpi);
    if (ocr.Recognize(nullptr) != 0) {
      return Fail(Code::kInternal, "ocr: orientation: tesseract could not read the text region");
    }
    std::unique_ptr<char[]> text(ocr.GetUTF8Text());
    const int letters = text ? CountLetters(text.get()) : 0;
    if (letters >= kMinLetters) confidence[turns] = WordScore(ocr);
    ocr.Clear();
    // Turned text rarely reads above 60: once one of a pair of opposite
    // turns reads sure and clearly better than the other, the sideways
    // turns need not be read.
    if (i == 1) {
      const int a = first_turns, b = (first_turns + 2) % 4;
      if (std::max(confidence[a], confidence[b]) >= kSureConfidence &&
          std::abs(confidence[a] - confidence[b]) >= kMinLead) {
        break;
      }
    }
  }
  return confidence;
}

Result<Orientation> OrientationDetector::Detect(tesseract::TessBaseAPI& ocr, const Image& image) {
  QuietLeptonica();
  const int dpi = image.dpi > 0 ? image.dpi : kDefaultDpi;
  try {
    PixPtr gray = ToGrayPix(image);
    if (!gray) return Fail(Code::kInternal, "ocr: orientation: out of memory");
    const std::optional<Guess> osd = RunOsd(gray.get(), dpi);
    if (osd && osd->confidence >= osd_min_confidence_) {
      return Orientation{osd->quarter_turns, osd->confidence, OrientationMethod::kOsd};
    }
    // OSD's unsure guess is read first: it is right more often than not.
    CU_ASSIGN_OR_RETURN(const TurnConfidences read_at,
                        ReadTurns(ocr, gray.get(), dpi, osd ? osd->quarter_turns : 0));
    int best = 0;
    for (int turns = 1; turns < 4; ++turns) {
      if (read_at[turns] > read_at[best]) best = turns;
    }
    if (read_at[best] > 0) {
      // Two weak signals: overrule OSD only by a clear lead.
      if (osd && best != osd->quarter_turns &&
          read_at[best] - read_at[osd->quarter_turns] < kMinLead) {
        return Orientation{osd->quarter_turns, osd->confidence, OrientationMethod::kOsd};
      }
      return Orientation{best, read_at[best], OrientationMethod::kOcrConfidence};
    }
    // The region did not read as text at any turn; an unsure OSD is still
    // better than nothing.
    if (osd) return Orientation{osd->quarter_turns, osd->confidence, OrientationMethod::kOsd};
    return Orientation{};
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("ocr: orientation: tesseract failed: ") + e.what());
  }
}

}  // namespace custodia::ocr
