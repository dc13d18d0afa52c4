// ocr/ocr.h: Tesseract through its C++ API. One Engine per thread; the
// language models are loaded once, when the Engine is opened, and reused for
// every page it reads. Besides text, words and confidences, a page can come
// with its orientation, hOCR and a one-page searchable PDF; the free
// functions at the end join the pages of one document.
#ifndef CUSTODIA_OCR_OCR_H_
#define CUSTODIA_OCR_OCR_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/image.h"
#include "base/result.h"

namespace custodia::ocr {

struct Options {
  std::string languages = "spa+eng";
  std::string tessdata_dir;  // empty: Tesseract's default (TESSDATA_PREFIX)
  // DetectOrientation trusts Tesseract's OSD only at or above this
  // orientation confidence; below it (blurred pages, few characters) it
  // decides by reading a text region at each turn. See docs/ocr.md.
  float osd_min_confidence = 8;
};

// How DetectOrientation decided.
enum class OrientationMethod {
  kNoText,         // no text found: the page is left as it is
  kOsd,            // Tesseract's orientation and script detection (osd model)
  kOcrConfidence,  // OSD failed or was unsure: the best-read of the four turns
};

struct Orientation {
  int quarter_turns = 0;  // clockwise quarter turns that make the page upright, 0..3
  // kOsd: Tesseract's orientation confidence (about 15 is fairly sure).
  // kOcrConfidence: the winning turn's word score, 0..100: mean word
  // confidence weighted by length, words under four letters and digits
  // counting 0 (docs/ocr.md). kNoText: 0.
  float confidence = 0;
  OrientationMethod method = OrientationMethod::kNoText;
};

struct Word {
  std::string text;
  int left = 0, top = 0, width = 0, height = 0;  // pixels
  float confidence = 0;                          // 0..100
};

// What Engine::Read produces beyond text and words. All off by default: a
// plain Read costs nothing more.
struct ReadOptions {
  // First find the orientation (Engine::DetectOrientation) and read the page
  // turned upright; Page::orientation says what was done, and every output
  // (words, hOCR, PDF) is of the turned page. Costs an OSD pass, plus four
  // readings of a small region when OSD is unsure (docs/ocr.md).
  bool orient = false;
  bool hocr = false;  // fill Page::hocr
  bool pdf = false;   // fill Page::pdf
  // 0-based number of the page in its document. It goes into the hOCR ids
  // (page_3, word_3_17), so fragments read by different Engines join into
  // one document without clashes.
  int page_number = 0;
  // The image shown in the PDF page (e.g. the gray or colour page when the
  // binarized one is recognised); nullptr: the recognised image. The text
  // layer is placed by the recognised image's coordinates, so it must have
  // the same width and height (before `orient` turns both). Not owned; only
  // read during the call. A gray image holding only 0 and 255 is stored as
  // 1-bit CCITT G4; other images as Flate or JPEG, as Leptonica chooses.
  const Image* pdf_image = nullptr;
  // When reading must end: Tesseract stops recognising words past it and
  // Read fails with kDeadlineExceeded (so does a Read begun after it). The
  // default, max(), sets no limit. Orientation detection is not limited.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Folder for the PDF renderer's one-page temporary file (Tesseract writes
  // only to files); it is removed before Read returns. Empty: $TMPDIR, else
  // /tmp.
  std::string temp_dir;
};

struct Page {
  std::string text;  // UTF-8, lines ended by '\n'
  std::vector<Word> words;
  float mean_confidence = 0;  // 0..100, Tesseract's MeanTextConf
  // ReadOptions::orient: how the page was turned before it was read; else
  // the default (0 turns, kNoText).
  Orientation orientation;
  // ReadOptions::hocr: this page's <div class='ocr_page'>, for MergeHocr.
  std::string hocr;
  // ReadOptions::pdf: a one-page PDF, picture plus invisible text, for
  // MergePdfs.
  std::vector<std::uint8_t> pdf;
};

// Tesseract runs parts of its LSTM on OpenMP threads. custodia runs one
// Engine per worker thread instead, and both at once oversubscribe the cores
// (measured on 2 cores: one page took 4.0 s instead of 1.9 s). The OpenMP
// runtime reads OMP_THREAD_LIMIT once, when it is loaded, before main: a
// setenv() from a running process changes nothing. So a program that uses
// Engines must be started with OMP_THREAD_LIMIT=1; the custodia binary
// re-executes itself to make sure of it. Returns the limit in force.
int LibraryThreadLimit();

// "tesseract 5.3.0, leptonica-1.82.0".
std::string LibraryVersions();

class Engine {
 public:
  // kUnavailable, naming the languages and the package to install, when
  // the models cannot be loaded.
  static Result<Engine> Open(const Options& options = {});

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // Recognises one page. kInvalidArgument for an empty or malformed image,
  // or a pdf_image of another size; kUnavailable when a PDF is asked for and
  // Tesseract's pdf.ttf is not in its tessdata folder; kIo when the PDF's
  // temporary file cannot be written.
  Result<Page> Read(const Image& image, const ReadOptions& options = {});

  // Finds how many clockwise quarter turns make `image` upright: Tesseract's
  // OSD on a copy scaled to about 200 dpi; when OSD fails or is below
  // Options::osd_min_confidence, a square of about 1.3 inches with the most
  // character-sized blobs is read at each of the four turns (OSD's guess
  // first) and the highest mean word confidence wins, but overrules OSD's
  // guess only by 5 points; a turn read at 80 or more wins at once. The OSD
  // model is loaded on first use (when it is missing, only the second
  // method is used). kInvalidArgument as for Read; kInternal if Tesseract
  // or Leptonica fail outright.
  Result<Orientation> DetectOrientation(const Image& image);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Joins per-page hOCR fragments (Page::hocr, in page order) into one
// XHTML hOCR document titled `title` (escaped here).
std::string MergeHocr(std::span<const std::string> pages, std::string_view title = "");

// Joins PDFs (typically Page::pdf, one page each), in order, into one PDF,
// in memory. kInvalidArgument for no input; kCorruption, naming the input's
// index, for one that does not parse.
Result<std::vector<std::uint8_t>> MergePdfs(std::span<const std::vector<std::uint8_t>> pdfs);

}  // namespace custodia::ocr

#endif  // CUSTODIA_OCR_OCR_H_
