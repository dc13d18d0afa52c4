// capture/cleanup.cc: page cleanup before OCR (gray, resolution, quarter
// turns, deskew, borders, punch holes, illumination, contrast, denoise,
// binarization, blank pages). OpenCV stays in this file; docs/cleanup.md has
// the reasons and measurements behind each constant.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <new>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>
#include <vector>

#include "capture/capture.h"

namespace custodia::capture {
namespace {

constexpr char kContext[] = "capture: cleanup: ";

// Page shapes we refuse: smaller than this a side, or longer than kMaxAspect
// times their width (a till roll is about 12).
constexpr int kMinSide = 16;
constexpr double kMaxAspect = 20;
// A declared dpi is believed when it makes the sheet's long side this many
// inches; outside (a 300-dpi scan tagged 72 dpi is 49 inches long) the dpi
// is guessed as an A4 sheet's.
constexpr double kMinSheetInches = 1.5;
constexpr double kMaxSheetInches = 30;
constexpr double kA4SquareInches = 8.27 * 11.69;
constexpr double kMaxUpscale = 4;
// Never upsample past this many pixels (a 300-dpi A0 sheet is 140 Mpx).
constexpr double kMaxUpscaledPixels = 100e6;
// All black: this fraction of the page darker than kBlackLevel.
constexpr double kBlackFraction = 0.98;
constexpr int kBlackLevel = 64;
// Sauvola's threshold T = m * (1 + k * (s / 128 - 1)) over a square window,
// capped at kInkMidpoint of the way from the darkest to the lightest level
// nearby. k and the midpoint were tuned by the OCR they give, on a tuning set
// of 64 degraded pages (samples/generate.py --profile eval --seed 7, never
// the evaluation set): pooled CER 2.83% at k 0.25 / midpoint 0.5, 2.63% at
// 0.35 / 0.5, 2.48% at 0.25 / 0.7, 2.41% at 0.35 / 0.7, 3.41% at 0.45 / 0.7.
// A higher midpoint keeps faint small print (grey labels on ID cards) that
// sits next to bold black text.
constexpr double kSauvolaK = 0.35;
constexpr double kSauvolaWindowMm = 4.5;
constexpr double kInkMidpoint = 0.7;
// Deskew leaves a page measured within this of level as it is (4 pixels
// across a 300-dpi A4 line).
constexpr double kMinTurnDegrees = 0.05;
// Illumination flattening takes no paper as darker than this fraction of
// the brightest (a sheet under a scanner's lamp stays well above it).
constexpr double kMinLight = 0.35;
// The blank measure leaves out this fraction of each side (scanner edges).
constexpr double kBlankMargin = 0.02;

using Clock = std::chrono::steady_clock;

std::string Dims(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height) + " pixels";
}

// Pixels for `mm` millimetres at `dpi`.
double Mm(double mm, double dpi) { return mm * dpi / 25.4; }

// An odd kernel size of about `px` pixels, at least 3.
int OddSize(double px) { return std::max(3, static_cast<int>(std::lround(px)) | 1); }

Status CheckBuffer(const Image& image) {
  if (image.width < 0 || image.height < 0) {
    return Fail(Code::kInvalidArgument, std::string(kContext) + "malformed image: negative size");
  }
  if (image.empty()) {
    return Fail(Code::kInvalidArgument,
                std::string(kContext) + "empty image (" + Dims(image.width, image.height) + ")");
  }
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return Fail(Code::kInvalidArgument, std::string(kContext) +
                                            "malformed image: " + std::to_string(image.channels) +
                                            " channels (1, 3 or 4 expected)");
  }
  const std::size_t row = static_cast<std::size_t>(image.width) * image.channels;
  if (image.stride < 0 || static_cast<std::size_t>(image.stride) < row) {
    return Fail(Code::kInvalidArgument,
                std::string(kContext) + "malformed image: stride " + std::to_string(image.stride) +
                    " is under width x channels (" + std::to_string(row) + ")");
  }
  const std::size_t need =
      static_cast<std::size_t>(image.stride) * static_cast<std::size_t>(image.height - 1) + row;
  if (image.pixels.size() < need) {
    return Fail(Code::kInvalidArgument,
                std::string(kContext) + "malformed image: " + std::to_string(image.pixels.size()) +
                    " bytes of pixels for " + Dims(image.width, image.height) + " (" +
                    std::to_string(need) + " needed)");
  }
  return Ok();
}

// The checks every page gets before cleanup touches it.
Status CheckPage(const Image& image) {
  CU_TRY(CheckBuffer(image));
  const int shorter = std::min(image.width, image.height);
  const int longer = std::max(image.width, image.height);
  if (shorter < kMinSide) {
    return Fail(Code::kInvalidArgument, std::string(kContext) + Dims(image.width, image.height) +
                                            " is too small for a page (at least " +
                                            std::to_string(kMinSide) + " pixels a side)");
  }
  if (longer > kMaxAspect * shorter) {
    return Fail(Code::kInvalidArgument, std::string(kContext) + Dims(image.width, image.height) +
                                            " is not a page: its long side is over " +
                                            std::to_string(static_cast<int>(kMaxAspect)) +
                                            " times its short side");
  }
  return Ok();
}

Status CheckOptions(const CleanupOptions& options) {
  if (options.target_dpi <= 0 || options.min_dpi <= 0 || options.max_dpi < options.min_dpi ||
      options.max_skew_degrees < 0 || options.max_skew_degrees > 45 || options.blank_max_ink < 0 ||
      options.blank_max_ink > 1) {
    return Fail(Code::kInvalidArgument,
                std::string(kContext) +
                    "options: dpis must be positive with min_dpi <= max_dpi, "
                    "max_skew_degrees within [0, 45], blank_max_ink within [0, 1]");
  }
  return Ok();
}

// A cv::Mat over the image's pixels, without copying. Writing through it
// writes the image.
cv::Mat View(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC(image.channels),
                 const_cast<std::uint8_t*>(image.pixels.data()),
                 static_cast<std::size_t>(image.stride));
}

Image ToImage(const cv::Mat& mat, int dpi) {
  Image image;
  image.width = mat.cols;
  image.height = mat.rows;
  image.channels = mat.channels();
  image.stride = image.width * image.channels;
  image.dpi = dpi;
  const std::size_t row = static_cast<std::size_t>(image.stride);
  image.pixels.resize(row * static_cast<std::size_t>(image.height));
  for (int y = 0; y < mat.rows; ++y) std::memcpy(image.pixels.data() + row * y, mat.ptr(y), row);
  return image;
}

// 8-bit gray: a view of a gray image's pixels, or a new luminance image.
cv::Mat ToGray(const Image& image) {
  cv::Mat view = View(image);
  if (image.channels == 1) return view;
  cv::Mat gray;
  cv::cvtColor(view, gray, image.channels == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
  return gray;
}

struct Dpi {
  int value = 0;
  bool guessed = false;
};

Dpi PageDpi(int width, int height, int declared) {
  if (declared > 0) {
    const double inches = static_cast<double>(std::max(width, height)) / declared;
    if (inches >= kMinSheetInches && inches <= kMaxSheetInches) return {declared, false};
  }
  const double guess = std::sqrt(static_cast<double>(width) * height / kA4SquareInches);
  return {std::max(1, static_cast<int>(std::lround(guess))), true};
}

// The largest power of two not over `x`, at least 1.
int Pow2Below(double x) {
  int f = 1;
  while (f * 2 <= x) f *= 2;
  return f;
}

// Reduce's factor for `image` at about 1/`want`: a power of two, because
// OpenCV halves an image fast and shrinks it by other factors slowly, and
// small enough to leave at least 2 pixels a side.
int Factor(const cv::Mat& image, double want) {
  return std::min(Pow2Below(want), Pow2Below(std::min(image.cols, image.rows) / 2.0));
}

// `gray` shrunk by `f`, a power of two (block means). The last width % f
// columns and height % f rows are left out; Expand puts them back.
cv::Mat Reduce(const cv::Mat& gray, int f) {
  if (f <= 1) return gray;
  const int w = std::max(1, gray.cols / f), h = std::max(1, gray.rows / f);
  cv::Mat small = gray(cv::Rect(0, 0, std::min(gray.cols, w * f), std::min(gray.rows, h * f)));
  for (int g = f; g > 1; g /= 2) {
    cv::Mat half;
    cv::resize(small, half, cv::Size(small.cols / 2, small.rows / 2), 0, 0, cv::INTER_AREA);
    small = half;
  }
  return small;
}

// The inverse of Reduce: `small` scaled by `f` to `size`, edges replicated
// (or cut).
cv::Mat Expand(const cv::Mat& small, int f, cv::Size size, int interpolation) {
  cv::Mat big = small;
  if (f > 1) cv::resize(small, big, cv::Size(small.cols * f, small.rows * f), 0, 0, interpolation);
  if (big.size() == size) return big;
  big = big(cv::Rect(0, 0, std::min(big.cols, size.width), std::min(big.rows, size.height)));
  if (big.size() == size) return big;
  cv::Mat out;
  cv::copyMakeBorder(big, out, 0, size.height - big.rows, 0, size.width - big.cols,
                     cv::BORDER_REPLICATE);
  return out;
}

// The smallest value v such that at least `fraction` of `hist`'s count is <= v.
int Percentile(const std::array<double, 256>& hist, double fraction) {
  double total = 0;
  for (double n : hist) total += n;
  double seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += hist[v];
    if (seen >= fraction * total && seen > 0) return v;
  }
  return 255;
}

// Gray levels of every `row_step`th row of `gray`.
std::array<double, 256> Histogram(const cv::Mat& gray, int row_step = 1) {
  std::array<std::uint32_t, 256> counts{};
  for (int y = 0; y < gray.rows; y += row_step) {
    const std::uint8_t* p = gray.ptr(y);
    for (int x = 0; x < gray.cols; ++x) ++counts[p[x]];
  }
  std::array<double, 256> hist{};
  std::copy(counts.begin(), counts.end(), hist.begin());
  return hist;
}

Status CheckNotBlack(const cv::Mat& gray) {
  cv::Mat small = Reduce(gray, Factor(gray, std::min(gray.cols, gray.rows) / 256.0));
  const double dark = static_cast<double>(small.total()) - cv::countNonZero(small >= kBlackLevel);
  const double fraction = dark / static_cast<double>(small.total());
  if (fraction >= kBlackFraction) {
    return Fail(Code::kInvalidArgument,
                std::string(kContext) + "the page is all black (" +
                    std::to_string(static_cast<int>(fraction * 100)) +
                    "% of it darker than 25% gray): a covered or failed scan; scan it again");
  }
  return Ok();
}

// Ink (255) where `gray` is under both Sauvola's threshold and the local
// midpoint between paper and ink (kInkMidpoint of the way from the darkest
// to the lightest level nearby), over a window of about `window` pixels.
// Sauvola alone keeps the grain of empty paper out but, with a window mostly
// of paper, puts its threshold near the paper and fattens strokes by their
// grey edges (measured: 14% of its ink was edge on a clean page, 32% on a
// blurred one); the midpoint keeps stroke widths.
// The statistics come from 2x2 blocks of the half-size page (4x4 pixels),
// so the window is a whole number of blocks and the threshold is
// interpolated between block centres: one pass over a quarter of the
// pixels instead of integral images of doubles. (Halving first drops the
// variance inside 2x2 pixels, a few percent of a 4.5 mm window's.)
cv::Mat SauvolaInk(const cv::Mat& gray, int window) {
  const int f = Factor(gray, 2);  // 1 only for pages a few pixels across
  const int block = 2 * f;
  cv::Mat half = Reduce(gray, f);
  const int bw = (half.cols + 1) / 2, bh = (half.rows + 1) / 2;
  cv::Mat mean(bh, bw, CV_32F), square(bh, bw, CV_32F), lo(bh, bw, CV_8U), hi(bh, bw, CV_8U);
  std::vector<std::int32_t> sum(static_cast<std::size_t>(bw)), sum2(sum.size());
  for (int by = 0; by < bh; ++by) {
    std::fill(sum.begin(), sum.end(), 0);
    std::fill(sum2.begin(), sum2.end(), 0);
    std::uint8_t* l = lo.ptr(by);
    std::uint8_t* h = hi.ptr(by);
    std::fill(l, l + bw, 255);
    std::fill(h, h + bw, 0);
    const int y1 = std::min(half.rows, 2 * by + 2);
    for (int y = 2 * by; y < y1; ++y) {
      const std::uint8_t* p = half.ptr(y);
      int x = 0;
      for (; x + 1 < half.cols; x += 2) {
        const std::int32_t a = p[x], b = p[x + 1];
        sum[x / 2] += a + b;
        sum2[x / 2] += a * a + b * b;
        l[x / 2] = static_cast<std::uint8_t>(std::min({a, b, static_cast<std::int32_t>(l[x / 2])}));
        h[x / 2] = static_cast<std::uint8_t>(std::max({a, b, static_cast<std::int32_t>(h[x / 2])}));
      }
      if (x < half.cols) {
        sum[x / 2] += p[x], sum2[x / 2] += p[x] * p[x];
        l[x / 2] = std::min(l[x / 2], p[x]), h[x / 2] = std::max(h[x / 2], p[x]);
      }
    }
    const int rows = y1 - 2 * by;
    float* m = mean.ptr<float>(by);
    float* s = square.ptr<float>(by);
    for (int bx = 0; bx < bw; ++bx) {
      const float n = static_cast<float>(rows * (std::min(half.cols, 2 * bx + 2) - 2 * bx));
      m[bx] = static_cast<float>(sum[bx]) / n;
      s[bx] = static_cast<float>(sum2[bx]) / n;
    }
  }
  const int k = std::max(3, (window / block) | 1);
  const cv::Mat box = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k));
  cv::boxFilter(mean, mean, -1, cv::Size(k, k), cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  cv::boxFilter(square, square, -1, cv::Size(k, k), cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  cv::erode(lo, lo, box, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
  cv::dilate(hi, hi, box, cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
  cv::Mat threshold(bh, bw, CV_8U);
  for (int by = 0; by < bh; ++by) {
    const float* m = mean.ptr<float>(by);
    const float* s = square.ptr<float>(by);
    const std::uint8_t* l = lo.ptr(by);
    const std::uint8_t* h = hi.ptr(by);
    std::uint8_t* t = threshold.ptr(by);
    for (int bx = 0; bx < bw; ++bx) {
      const float deviation = std::sqrt(std::max(0.0f, s[bx] - m[bx] * m[bx]));
      const double sauvola = m[bx] * (1.0 + kSauvolaK * (deviation / 128.0 - 1.0));
      const double midpoint = l[bx] + kInkMidpoint * (h[bx] - l[bx]);
      t[bx] = cv::saturate_cast<std::uint8_t>(std::min(sauvola, midpoint));
    }
  }
  cv::Mat ink;
  cv::compare(gray, Expand(threshold, block, gray.size(), cv::INTER_LINEAR), ink, cv::CMP_LT);
  return ink;
}

int SauvolaWindow(int dpi) { return OddSize(Mm(kSauvolaWindowMm, dpi)); }

// --- deskew -------------------------------------------------------------------

// Text-sized ink pixels of the page at about 150 dpi: what the projection
// profiles are made of. Borders, rules, frames and pictures are left out
// by size, so that only text lines vote on the angle.
struct SkewPoints {
  std::vector<cv::Point2f> points;
  int width = 0;
  int height = 0;
};

SkewPoints TextPoints(const cv::Mat& gray, int dpi) {
  const int f = Factor(gray, dpi / 150.0);
  cv::Mat small = Reduce(gray, f);
  const double sdpi = static_cast<double>(dpi) / f;
  cv::Mat ink = SauvolaInk(small, SauvolaWindow(static_cast<int>(sdpi)));
  cv::Mat labels, stats, centroids;
  const int n =
      cv::connectedComponentsWithStats(ink, labels, stats, centroids, 8, CV_32S, cv::CCL_GRANA);
  const double min_h = Mm(0.8, sdpi), max_h = Mm(8, sdpi), max_w = Mm(40, sdpi);
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n), 0);
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH);
    const int h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    keep[i] = h >= min_h && h <= max_h && w <= max_w;
  }
  SkewPoints out;
  out.width = small.cols;
  out.height = small.rows;
  for (int y = 0; y < labels.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (keep[l[x]]) out.points.emplace_back(static_cast<float>(x), static_cast<float>(y));
    }
  }
  return out;
}

// How sharply the points fall into lines at `degrees`: the sum of squares
// of their projection profile (every `step`th point).
double ProfileScore(const SkewPoints& sample, double degrees, int step,
                    std::vector<std::int32_t>& hist) {
  const double radians = degrees * CV_PI / 180.0;
  const float c = static_cast<float>(std::cos(radians));
  const float s = static_cast<float>(std::sin(radians));
  const float offset = static_cast<float>(sample.width) + 2.0f;
  hist.assign(static_cast<std::size_t>(sample.height + 2 * sample.width + 4), 0);
  for (std::size_t i = 0; i < sample.points.size(); i += static_cast<std::size_t>(step)) {
    const cv::Point2f& p = sample.points[i];
    const float bin = p.y * c + p.x * s + offset;
    ++hist[static_cast<std::size_t>(bin + 0.5f)];
  }
  double score = 0;
  for (std::int32_t h : hist) score += static_cast<double>(h) * h;
  return score;
}

// The angle, in degrees counter-clockwise, by which the text lines of
// `gray` are turned; 0 when there is too little text to tell.
double MeasureSkew(const cv::Mat& gray, int dpi, double max_degrees) {
  if (max_degrees <= 0) return 0;
  SkewPoints sample = TextPoints(gray, dpi);
  if (sample.points.size() < 500) return 0;
  std::vector<std::int32_t> hist;
  // A coarse sweep on an eighth of the points, two finer searches around
  // the best angle on half and then all of them, a parabola through the
  // best three.
  const double coarse_step = 0.5;
  const double limit = max_degrees + coarse_step;
  std::vector<double> coarse;
  double best = 0, best_score = -1;
  for (double a = -limit; a <= limit + 1e-9; a += coarse_step) {
    const double score = ProfileScore(sample, a, 8, hist);
    coarse.push_back(score);
    if (score > best_score) best_score = score, best = a;
  }
  // A page with text lines has a clear peak; a picture or a blank page
  // scores about the same at every angle.
  std::vector<double> sorted = coarse;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  if (median <= 0 || best_score < 1.15 * median) return 0;
  struct Pass {
    double step;
    int reach, points;
  };
  for (const Pass pass : {Pass{0.1, 4, 2}, Pass{0.025, 3, 1}}) {
    const double center = best;
    best_score = -1;
    for (int i = -pass.reach; i <= pass.reach; ++i) {
      const double a = center + i * pass.step;
      const double score = ProfileScore(sample, a, pass.points, hist);
      if (score > best_score) best_score = score, best = a;
    }
  }
  const double step = 0.025;
  const double left = ProfileScore(sample, best - step, 1, hist);
  const double right = ProfileScore(sample, best + step, 1, hist);
  const double curvature = left - 2 * best_score + right;
  if (curvature < 0) best += 0.5 * step * (left - right) / curvature;
  return std::clamp(best, -max_degrees, max_degrees);
}

// The affine map that turns a page of `size` by -`degrees` about its centre.
cv::Mat RotationMatrix(cv::Size size, double degrees) {
  const cv::Point2f center(static_cast<float>(size.width - 1) / 2.0f,
                           static_cast<float>(size.height - 1) / 2.0f);
  return cv::getRotationMatrix2D(center, -degrees, 1.0);
}

// Turns `gray` by -`degrees` about its centre, keeping its size; what comes
// in at the corners is white.
cv::Mat Rotate(const cv::Mat& gray, double degrees) {
  cv::Mat out;
  cv::warpAffine(gray, out, RotationMatrix(gray.size(), degrees), gray.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(255));
  return out;
}

// --- borders and punch holes ---------------------------------------------------

// The page at about 75 dpi and what is dark on it: under half the paper's
// brightness (the paper is the 90th percentile).
struct DarkMap {
  int f = 1;
  double dpi = 0;
  cv::Mat small;
  int paper = 0;
  cv::Mat dark;
};

DarkMap Dark(const cv::Mat& gray, int dpi) {
  DarkMap map;
  map.f = Factor(gray, dpi / 75.0);
  map.dpi = static_cast<double>(dpi) / map.f;
  map.small = Reduce(gray, map.f);
  map.paper = Percentile(Histogram(map.small), 0.9);
  cv::threshold(map.small, map.dark, map.paper * 0.5, 255, cv::THRESH_BINARY_INV);
  return map;
}

// Where the scan ends, on the reduced map, grown by `near` pixels: the
// image's edges and, when deskew turned the page by `rotated` degrees, the
// white corners that the turn brought in (a border beside them no longer
// touches the edge).
cv::Mat Outside(const DarkMap& map, cv::Size full, double rotated, double near) {
  const cv::Size size = map.dark.size();
  cv::Mat outside(size, CV_8U, cv::Scalar(255));
  std::vector<cv::Point> corners;
  if (rotated == 0) {
    corners = {{0, 0}, {size.width, 0}, {size.width, size.height}, {0, size.height}};
  } else {
    const cv::Mat m = RotationMatrix(full, rotated);
    for (const cv::Point2d c :
         {cv::Point2d(0, 0), cv::Point2d(full.width, 0), cv::Point2d(full.width, full.height),
          cv::Point2d(0, full.height)}) {
      const double x = m.at<double>(0, 0) * c.x + m.at<double>(0, 1) * c.y + m.at<double>(0, 2);
      const double y = m.at<double>(1, 0) * c.x + m.at<double>(1, 1) * c.y + m.at<double>(1, 2);
      corners.emplace_back(static_cast<int>(std::lround(x / map.f)),
                           static_cast<int>(std::lround(y / map.f)));
    }
  }
  cv::fillConvexPoly(outside, corners, cv::Scalar(0));
  const int grow = 2 * static_cast<int>(std::ceil(near)) + 1;
  cv::rectangle(outside, cv::Rect(0, 0, size.width, size.height), cv::Scalar(255), grow);
  cv::dilate(outside, outside, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(grow, grow)));
  return outside;
}

// Paints white the dark regions at the end of the scan: those that meet
// the 3 mm band along it (Outside) and are thick (they survive an opening
// by 2 mm, which text strokes do not), then, of what is left, the long
// ones (10 mm or more) lying mostly (60%) inside the band, counting also
// grey that is a quarter dark (the shadow of the sheet's edge, the thin tip
// of a wedge left by a sheet askew: at 75 dpi a 1-pixel line is grey).
// Text touching a border is cut from it by the opening and stays. Returns
// how many regions were painted (the 0.5 mm frame erased at the end is not
// counted).
int RemoveBorders(cv::Mat& gray, int dpi, double rotated) {
  DarkMap map = Dark(gray, dpi);
  const cv::Size size = map.dark.size();
  const cv::Mat band = Outside(map, gray.size(), rotated, Mm(3, map.dpi));
  cv::Mat border = cv::Mat::zeros(size, CV_8U);
  int regions = 0;
  cv::Mat labels, stats, centroids;
  // Marks in `border` the components of `labels` for which `accept` holds,
  // given the component's number and how many of its pixels are in `band`.
  auto collect = [&](int n, auto accept) {
    std::vector<int> in_band(static_cast<std::size_t>(n), 0);
    for (int y = 0; y < size.height; ++y) {
      const int* l = labels.ptr<int>(y);
      const std::uint8_t* o = band.ptr(y);
      for (int x = 0; x < size.width; ++x) in_band[l[x]] += o[x] != 0;
    }
    std::vector<std::uint8_t> take(static_cast<std::size_t>(n), 0);
    for (int i = 1; i < n; ++i) {
      take[i] = in_band[i] > 0 && accept(i, in_band[i]);
      regions += take[i];
    }
    if (std::find(take.begin(), take.end(), 1) == take.end()) return;
    for (int y = 0; y < size.height; ++y) {
      const int* l = labels.ptr<int>(y);
      std::uint8_t* b = border.ptr(y);
      for (int x = 0; x < size.width; ++x) b[x] |= take[l[x]] ? 255 : 0;
    }
  };

  cv::Mat thick;
  const int k = OddSize(Mm(2, map.dpi));
  cv::morphologyEx(map.dark, thick, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  collect(
      cv::connectedComponentsWithStats(thick, labels, stats, centroids, 8, CV_32S, cv::CCL_GRANA),
      [](int, int) { return true; });

  cv::Mat rest, taken;
  cv::threshold(map.small, rest, map.paper * 0.75, 255, cv::THRESH_BINARY_INV);
  cv::dilate(border, taken, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  rest.setTo(0, taken);
  const double along = Mm(10, map.dpi);
  collect(
      cv::connectedComponentsWithStats(rest, labels, stats, centroids, 8, CV_32S, cv::CCL_GRANA),
      [&](int i, int in_band) {
        const int length =
            std::max(stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
        return length >= along && in_band >= 0.6 * stats.at<int>(i, cv::CC_STAT_AREA);
      });
  if (regions > 0) {
    // Cover the grey fringe that the reduction smeared around each region.
    const int grow = OddSize(Mm(1, map.dpi));
    cv::dilate(border, border, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(grow, grow)));
    gray.setTo(255, Expand(border, map.f, gray.size(), cv::INTER_NEAREST));
  }
  // A 0.5 mm frame is always erased, as scanners' "edge erase" does: lines
  // thinner than a pixel of the reduced map (and the rows and columns that
  // Reduce leaves out) are not seen above, and nothing legible is that close
  // to the edge of a sheet.
  const int frame = std::max(map.f, static_cast<int>(std::lround(Mm(0.5, dpi))));
  cv::rectangle(gray, cv::Rect(0, 0, gray.cols, gray.rows), cv::Scalar(255), 2 * frame);
  return regions;
}

// Whether the ring from 1.2 `radius` to `radius` + max(`gap`, `radius` / 2)
// around `center` is free of pixels of `gray` under `dark` (0.2% of them
// allowed, for grain): a punch hole stands alone in the margin, while a
// bold letter or a logo of the same size has neighbours. Checked at full
// resolution, where thin print is as dark as it is on paper.
bool Isolated(const cv::Mat& gray, cv::Point2d center, double radius, double gap, int dark) {
  const double inner = 1.2 * radius, outer = radius + std::max(gap, 0.5 * radius);
  const int x0 = std::max(0, static_cast<int>(center.x - outer));
  const int x1 = std::min(gray.cols - 1, static_cast<int>(center.x + outer));
  const int y0 = std::max(0, static_cast<int>(center.y - outer));
  const int y1 = std::min(gray.rows - 1, static_cast<int>(center.y + outer));
  int ring = 0, inked = 0;
  for (int y = y0; y <= y1; ++y) {
    const std::uint8_t* p = gray.ptr(y);
    const double dy2 = (y - center.y) * (y - center.y);
    for (int x = x0; x <= x1; ++x) {
      const double d2 = (x - center.x) * (x - center.x) + dy2;
      if (d2 < inner * inner || d2 > outer * outer) continue;
      ++ring;
      inked += p[x] < dark;
    }
  }
  return inked <= 0.002 * ring;
}

// Paints white the dark discs 4 to 10 mm across whose centre is within
// 25 mm of an edge (ISO 838 holes are 6 mm, 12 mm from the edge; US ones
// 6.4 to 8 mm, 9.5 mm from it), standing alone (Isolated). Returns how many.
int RemovePunchHoles(cv::Mat& gray, int dpi) {
  DarkMap map = Dark(gray, dpi);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(map.dark, labels, stats, centroids, 8, CV_32S,
                                                 cv::CCL_GRANA);
  const double min_d = Mm(4, map.dpi), max_d = Mm(10, map.dpi), reach = Mm(25, map.dpi);
  int holes = 0;
  for (int i = 1; i < n; ++i) {
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const double area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (w < min_d || h < min_d || w > max_d || h > max_d) continue;
    if (w > 1.25 * h || h > 1.25 * w) continue;
    const double fill = area / (CV_PI / 4 * w * h);  // 1 for a disc
    if (fill < 0.8 || fill > 1.1) continue;
    const double cx = centroids.at<double>(i, 0), cy = centroids.at<double>(i, 1);
    const double edge = std::min({cx, cy, map.dark.cols - cx, map.dark.rows - cy});
    if (edge > reach) continue;
    const cv::Point2d center((cx + 0.5) * map.f, (cy + 0.5) * map.f);
    const double radius = 0.5 * std::max(w, h) * map.f;
    if (!Isolated(gray, center, radius, Mm(3, dpi), map.paper / 2)) continue;
    cv::circle(
        gray,
        cv::Point(static_cast<int>(std::lround(center.x)), static_cast<int>(std::lround(center.y))),
        static_cast<int>(std::lround(1.15 * radius)) + 2, cv::Scalar(255), cv::FILLED);
    ++holes;
  }
  return holes;
}

// --- illumination and contrast ------------------------------------------------

// Divides the page by an estimate of its paper's brightness: a closing by
// 12 mm (text and anything thinner goes, the shading stays) of the page at
// about 37 dpi, smoothed. Paper comes out white everywhere; ink keeps its
// darkness relative to the paper around it. A dark area wider than 12 mm (a
// photo, a black bar) would pass for shadow and come out white, so the
// estimate is never taken under kMinLight of the brightest paper: real
// shading of a sheet stays above it, and such an area stays dark.
void FlattenIllumination(cv::Mat& gray, int dpi) {
  const int f = Factor(gray, dpi / 37.0);
  const double sdpi = static_cast<double>(dpi) / f;
  cv::Mat background = Reduce(gray, f);
  const int k = OddSize(Mm(12, sdpi));
  cv::morphologyEx(background, background, cv::MORPH_CLOSE,
                   cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)), cv::Point(-1, -1), 1,
                   cv::BORDER_REPLICATE);
  const int paper = Percentile(Histogram(background), 0.95);
  cv::max(background, std::max(1.0, kMinLight * paper), background);
  cv::GaussianBlur(background, background, cv::Size(k, k), 0, 0, cv::BORDER_REPLICATE);
  cv::divide(gray, Expand(background, f, gray.size(), cv::INTER_LINEAR), gray, 255.0);
}

// Stretches gray levels so that the paper (the most common level above
// 100) is white and the darkest 5% of the ink is black. Leaves the page as
// it is when it has almost no ink (a blank page's show-through must not
// become text) or when the stretch would be over 4x.
void NormalizeContrast(cv::Mat& gray) {
  const std::array<double, 256> hist = Histogram(gray, 4);
  int paper = 255;
  double peak = -1;
  for (int v = 100; v < 256; ++v) {
    if (hist[v] > peak) peak = hist[v], paper = v;
  }
  const int ink_level = paper * 3 / 4;
  std::array<double, 256> ink{};
  double total = 0, ink_count = 0;
  for (int v = 0; v < 256; ++v) {
    total += hist[v];
    if (v < ink_level) ink[v] = hist[v], ink_count += hist[v];
  }
  if (ink_count < 0.0005 * total) return;
  const int black = Percentile(ink, 0.05);
  if (paper - black < 64) return;
  cv::Mat lut(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) {
    lut.at<std::uint8_t>(v) = cv::saturate_cast<std::uint8_t>(
        std::lround(255.0 * (v - black) / static_cast<double>(paper - black)));
  }
  cv::LUT(gray, lut, gray);
}

// --- specks -----------------------------------------------------------------

// A speck is ink at most kSpeckMm across both ways; it is removed when no
// other ink is within kSpeckGuardMm of it. The dot of an i, an accent, a
// comma, a full stop or a decimal point is always that close to its letter
// or digit, so it stays, even in small print where it is speck-sized.
constexpr double kSpeckMm = 0.5;
constexpr double kSpeckGuardMm = 2.5;

// Removes specks from `ink` (255 = ink), painting them white in `gray`
// when given. Works on 4x4 blocks: ink within a block of a letter joins the
// letter's group of blocks and is never a speck, and the groups are found
// on a sixteenth of the pixels. Returns how many specks were removed.
int RemoveSpecks(cv::Mat& ink, cv::Mat* gray, int dpi) {
  constexpr int kF = 4;
  // (The last width % 4 columns and height % 4 rows are left as they are.)
  cv::Mat blocks = Reduce(ink, kF);
  cv::threshold(blocks, blocks, 0, 255, cv::THRESH_BINARY);
  const int bw = blocks.cols, bh = blocks.rows;
  cv::Mat labels, stats, centroids;
  const int n =
      cv::connectedComponentsWithStats(blocks, labels, stats, centroids, 8, CV_32S, cv::CCL_GRANA);
  const int speck = std::max(2, static_cast<int>(std::lround(Mm(kSpeckMm, dpi))));
  const int speck_blocks = (speck + kF - 1) / kF + 1;
  std::vector<std::uint8_t> is_speck(static_cast<std::size_t>(n), 0);
  std::vector<int> specks;
  for (int i = 1; i < n; ++i) {
    const cv::Rect box(stats.at<int>(i, 0), stats.at<int>(i, 1), stats.at<int>(i, 2),
                       stats.at<int>(i, 3));
    if (box.width > speck_blocks || box.height > speck_blocks) continue;
    // The exact extent of the group's ink.
    int x0 = ink.cols, x1 = -1, y0 = ink.rows, y1 = -1;
    for (int by = box.y; by < box.y + box.height; ++by) {
      for (int bx = box.x; bx < box.x + box.width; ++bx) {
        if (labels.at<int>(by, bx) != i) continue;
        for (int y = by * kF; y < std::min(ink.rows, (by + 1) * kF); ++y) {
          const std::uint8_t* p = ink.ptr(y);
          for (int x = bx * kF; x < std::min(ink.cols, (bx + 1) * kF); ++x) {
            if (p[x] == 0) continue;
            x0 = std::min(x0, x), x1 = std::max(x1, x);
            y0 = std::min(y0, y), y1 = std::max(y1, y);
          }
        }
      }
    }
    if (x1 - x0 + 1 > speck || y1 - y0 + 1 > speck) continue;
    is_speck[i] = 1;
    specks.push_back(i);
  }
  if (specks.empty()) return 0;
  // The other ink, grown by the guard distance.
  cv::Mat guard(bh, bw, CV_8U);
  for (int by = 0; by < bh; ++by) {
    const int* l = labels.ptr<int>(by);
    std::uint8_t* g = guard.ptr(by);
    for (int bx = 0; bx < bw; ++bx) g[bx] = l[bx] != 0 && !is_speck[l[bx]] ? 255 : 0;
  }
  const int grow = 2 * static_cast<int>(std::ceil(Mm(kSpeckGuardMm, dpi) / kF)) + 1;
  cv::dilate(guard, guard, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(grow, grow)));
  int removed = 0;
  for (int i : specks) {
    const cv::Rect box(stats.at<int>(i, 0), stats.at<int>(i, 1), stats.at<int>(i, 2),
                       stats.at<int>(i, 3));
    bool guarded = false;
    for (int by = box.y; by < box.y + box.height && !guarded; ++by) {
      for (int bx = box.x; bx < box.x + box.width; ++bx) {
        if (labels.at<int>(by, bx) == i && guard.at<std::uint8_t>(by, bx) != 0) guarded = true;
      }
    }
    if (guarded) continue;
    for (int by = box.y; by < box.y + box.height; ++by) {
      for (int bx = box.x; bx < box.x + box.width; ++bx) {
        if (labels.at<int>(by, bx) != i) continue;
        for (int y = by * kF; y < std::min(ink.rows, (by + 1) * kF); ++y) {
          std::uint8_t* p = ink.ptr(y);
          std::uint8_t* g = gray != nullptr ? gray->ptr(y) : nullptr;
          for (int x = bx * kF; x < std::min(ink.cols, (bx + 1) * kF); ++x) {
            if (p[x] == 0) continue;
            p[x] = 0;
            if (g != nullptr) g[x] = 255;
          }
        }
      }
    }
    ++removed;
  }
  return removed;
}

double InkFraction(const cv::Mat& ink) {
  const int mx = static_cast<int>(ink.cols * kBlankMargin);
  const int my = static_cast<int>(ink.rows * kBlankMargin);
  cv::Mat inner = ink(cv::Rect(mx, my, ink.cols - 2 * mx, ink.rows - 2 * my));
  return static_cast<double>(cv::countNonZero(inner)) / static_cast<double>(inner.total());
}

// --- running stages --------------------------------------------------------------

// Times each stage, records it and hands its output to the hook.
class Stages {
 public:
  Stages(const CleanupOptions& options, CleanupReport& report)
      : options_(options), report_(report) {}

  template <class F>
  void Run(const char* name, const cv::Mat& image, int dpi, F&& stage) {
    const Clock::time_point start = Clock::now();
    stage();
    const std::chrono::duration<double, std::milli> ms = Clock::now() - start;
    report_.stages.push_back({name, ms.count()});
    if (options_.on_stage) options_.on_stage(name, ToImage(image, dpi));
  }

 private:
  const CleanupOptions& options_;
  CleanupReport& report_;
};

// Runs `body`, turning what OpenCV throws into an Error.
template <class F>
auto Guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const cv::Exception& e) {
    return Fail(Code::kInternal, std::string(kContext) + "opencv: " + e.what());
  } catch (const std::bad_alloc&) {
    return Fail(Code::kInternal, std::string(kContext) + "out of memory");
  }
}

}  // namespace

Result<Cleaned> Prepare(const Image& page, const CleanupOptions& options) {
  CU_TRY(CheckOptions(options));
  CU_TRY(CheckPage(page));
  return Guarded([&]() -> Result<Cleaned> {
    Cleaned out;
    CleanupReport& report = out.report;
    Stages stages(options, report);
    const Dpi dpi = PageDpi(page.width, page.height, page.dpi);
    report.input_dpi = report.output_dpi = dpi.value;
    report.dpi_guessed = dpi.guessed;

    cv::Mat mat = View(page);
    if (options.gray && page.channels != 1) {
      stages.Run("gray", mat, dpi.value, [&] { mat = ToGray(page); });
    }
    CU_TRY(CheckNotBlack(mat.channels() == 1 ? mat : ToGray(page)));

    double scale = 1;
    if (options.resolution && (dpi.value < options.min_dpi || dpi.value > options.max_dpi)) {
      scale = static_cast<double>(options.target_dpi) / dpi.value;
      if (scale > 1) {
        const double pixels = static_cast<double>(page.width) * page.height;
        scale =
            std::min({scale, kMaxUpscale, std::max(1.0, std::sqrt(kMaxUpscaledPixels / pixels))});
      }
    }
    if (scale != 1) {
      const cv::Size size(std::max(1, static_cast<int>(std::lround(page.width * scale))),
                          std::max(1, static_cast<int>(std::lround(page.height * scale))));
      report.output_dpi = static_cast<int>(std::lround(dpi.value * scale));
      stages.Run("resolution", mat, report.output_dpi, [&] {
        cv::Mat resized;
        cv::resize(mat, resized, size, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
        mat = resized;
      });
    }
    out.image = ToImage(mat, report.output_dpi);
    return out;
  });
}

Result<Cleaned> Clean(Cleaned page, const CleanupOptions& options) {
  CU_TRY(CheckOptions(options));
  CU_TRY(CheckPage(page.image));
  return Guarded([&]() -> Result<Cleaned> {
    CleanupReport& report = page.report;
    const Dpi found = PageDpi(page.image.width, page.image.height, page.image.dpi);
    if (report.input_dpi == 0) {
      report.input_dpi = found.value;
      report.dpi_guessed = found.guessed;
    }
    report.output_dpi = found.value;
    const int dpi = found.value;
    Stages stages(options, report);

    // We own page.image: the stages may write through this view.
    cv::Mat gray = ToGray(page.image);
    CU_TRY(CheckNotBlack(gray));

    double rotated = 0;  // degrees deskew turned the page by
    if (options.deskew) {
      stages.Run("deskew", gray, dpi, [&] {
        report.skew_degrees = MeasureSkew(gray, dpi, options.max_skew_degrees);
        if (std::abs(report.skew_degrees) >= kMinTurnDegrees) {
          rotated = report.skew_degrees;
          gray = Rotate(gray, rotated);
        }
      });
    }
    if (options.borders) {
      stages.Run("borders", gray, dpi, [&] { report.borders = RemoveBorders(gray, dpi, rotated); });
    }
    if (options.punch_holes) {
      stages.Run("holes", gray, dpi, [&] { report.punch_holes = RemovePunchHoles(gray, dpi); });
    }
    if (options.illumination) {
      stages.Run("illumination", gray, dpi, [&] { FlattenIllumination(gray, dpi); });
    }
    if (options.contrast) {
      stages.Run("contrast", gray, dpi, [&] { NormalizeContrast(gray); });
    }
    // The ink mask that denoise cleans is the one binarize returns.
    cv::Mat ink;
    if (options.denoise) {
      stages.Run("denoise", gray, dpi, [&] {
        ink = SauvolaInk(gray, SauvolaWindow(dpi));
        report.specks = RemoveSpecks(ink, &gray, dpi);
      });
    }
    if (options.binarize) {
      stages.Run("binarize", gray, dpi, [&] {
        if (ink.empty()) ink = SauvolaInk(gray, SauvolaWindow(dpi));
        cv::bitwise_not(ink, gray);
      });
    }
    if (ink.empty()) {
      ink = SauvolaInk(gray, SauvolaWindow(dpi));
      RemoveSpecks(ink, nullptr, dpi);
    }
    report.ink_fraction = InkFraction(ink);
    report.blank = report.ink_fraction <= options.blank_max_ink;
    page.image = ToImage(gray, dpi);
    return std::move(page);
  });
}

Result<Image> RotateQuarterTurns(const Image& image, int quarter_turns) {
  CU_TRY(CheckBuffer(image));
  return Guarded([&]() -> Result<Image> {
    const int turns = ((quarter_turns % 4) + 4) % 4;
    if (turns == 0) return ToImage(View(image), image.dpi);
    static constexpr cv::RotateFlags kFlags[] = {cv::ROTATE_90_CLOCKWISE, cv::ROTATE_180,
                                                 cv::ROTATE_90_COUNTERCLOCKWISE};
    cv::Mat out;
    cv::rotate(View(image), out, kFlags[turns - 1]);
    return ToImage(out, image.dpi);
  });
}

int SetCleanupThreads(int threads) {
  const int previous = cv::getNumThreads();
  cv::setNumThreads(threads <= 0 ? -1 : threads);
  return previous;
}

Result<bool> IsBlank(const Image& page, const CleanupOptions& options) {
  CU_TRY(CheckOptions(options));
  CU_TRY(CheckPage(page));
  return Guarded([&]() -> Result<bool> {
    cv::Mat gray = ToGray(page);
    CU_TRY(CheckNotBlack(gray));
    const int dpi = PageDpi(page.width, page.height, page.dpi).value;
    cv::Mat ink = SauvolaInk(gray, SauvolaWindow(dpi));
    RemoveSpecks(ink, nullptr, dpi);
    return InkFraction(ink) <= options.blank_max_ink;
  });
}

}  // namespace custodia::capture
