// capture/capture.h: turns a file's bytes into pages: images through
// Leptonica (PNG, JPEG, multi-page TIFF), PDFs through Poppler (a page with
// a usable text layer gives its text; a scanned page is rendered), and cleans
// scanned pages for OCR (OpenCV, private to capture/).
#ifndef CUSTODIA_CAPTURE_CAPTURE_H_
#define CUSTODIA_CAPTURE_CAPTURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/image.h"
#include "base/result.h"

namespace custodia::capture {

enum class Format { kPng, kJpeg, kTiff, kPdf };

// "png", "jpeg", "tiff", "pdf".
const char* FormatName(Format format);

// Identifies the format by its magic bytes (never by file name).
// kUnsupported (naming what it looks like, if known) otherwise.
Result<Format> Sniff(std::span<const std::uint8_t> bytes);

struct Options {
  // Largest page accepted, in pixels (decompression bombs are refused before
  // decoding). 100 Mpx is a 300-dpi A0 sheet.
  std::int64_t max_pixels = 100'000'000;
  // Resolution at which scanned PDF pages are rendered.
  int render_dpi = 300;
  // A PDF page whose text layer has at least this many letters or digits
  // uses it instead of OCR.
  int min_text_chars = 16;
  // A page with a text layer of fewer letters and digits than this is also
  // rendered, at sparse_render_dpi, into Page::image: a separator sheet in
  // a born-digital or "searchable" PDF carries a code and a short caption,
  // and its code is only seen on the picture. 0: never (a page with text
  // has no image). Pages of real documents hold more text than a sheet, so
  // they cost nothing more.
  int sparse_text_chars = 0;
  int sparse_render_dpi = 150;
};

struct Page {
  int number = 0;          // 1-based
  bool has_text = false;   // true: `text` is the page's text layer
  std::string text;
  Image image;             // the page to OCR when !has_text; with has_text, a
                           // sparse page's picture (Options::sparse_text_chars)
};

// A document opened for reading page by page, so that a long PDF is never
// held decoded as a whole. Open keeps a reference to `bytes`, which must
// outlive it.
class Document {
 public:
  // kUnsupported for formats we do not read, kCorruption for a damaged file,
  // kPermissionDenied for an encrypted PDF that needs a password to open (one
  // with only owner-password restrictions, such as no-copy, is read),
  // kInvalidArgument for an empty one.
  static Result<Document> Open(std::span<const std::uint8_t> bytes, const Options& options = {});
  // Open on a file. A PDF is read as pages need it, never held whole (its
  // file must not change while the Document is open); an image is read into
  // memory, owned by the Document. Errors as Open, and kIo / kNotFound when
  // the file cannot be read.
  static Result<Document> OpenFile(const std::string& path, const Options& options = {});

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  Format format() const;
  int page_count() const;
  // REQUIRES: 0 <= index < page_count(). kInvalidArgument if the page is
  // larger than Options::max_pixels; kCorruption if it cannot be decoded.
  Result<Page> ReadPage(int index);

  // A file of the same format holding only the pages `indexes` (0-based,
  // in that order), for a document split out of a batch: a PDF's pages are
  // copied as they are (qpdf: content, images and text layer untouched), a
  // TIFF's are decoded and written again losslessly (G4 for one bit per
  // pixel, else ZIP); an image with one page is returned whole. The same
  // pages always give the same bytes (no date, a deterministic /ID), so a
  // batch archived again after a crash finds its documents by their hash.
  // kInvalidArgument for an empty list or an index out of range;
  // kCorruption when the pages cannot be copied.
  Result<std::vector<std::uint8_t>> ExtractPages(std::span<const int> indexes);

 private:
  struct Impl;
  explicit Document(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// --- Cleanup (cleanup.cc) ----------------------------------------------------
//
// Scanned pages are cleaned before OCR in this order:
//   Prepare (gray, resolution) -> [ocr decides the orientation on that image]
//   -> RotateQuarterTurns -> Clean (deskew, borders, punch holes, illumination,
//   contrast, denoise, binarize) -> OCR, unless the report says blank.
// docs/cleanup.md describes each stage, its default and what it measured.
// Sizes inside the stages are in millimetres at the page's dpi, so a page is
// cleaned the same way at any resolution.

struct CleanupOptions {
  // Prepare. A stage set to false is skipped (and its name not reported).
  bool gray = true;        // "gray": RGB(A) to 8-bit luminance
  bool resolution = true;  // "resolution": see min_dpi, max_dpi
  int target_dpi = 300;    // pages outside [min_dpi, max_dpi] are resampled to this
  int min_dpi = 200;       // (upsampling at most 4x)
  int max_dpi = 400;
  // Clean.
  bool deskew = true;            // "deskew"
  double max_skew_degrees = 15;  // searched on both sides of level
  bool borders = true;           // "borders": dark scanner borders touching the edges
  bool punch_holes = true;       // "holes": dark 4-10 mm discs within 25 mm of an edge
  bool illumination = true;      // "illumination": divides by the paper's shading
  bool contrast = true;          // "contrast": darkest ink to black, paper to white
  bool denoise = true;           // "denoise": specks away from text, never near it
  bool binarize = true;          // "binarize": local threshold; the output is 0 or 255 only
  // A page whose ink (after Clean) covers at most this fraction of its area,
  // less a 2% margin on each side, is blank: a page number alone (0.004%)
  // is, a single word of 10-point print (0.013%) is not.
  double blank_max_ink = 0.0001;
  // Called after each stage that ran, with the stage's name (above) and its
  // output, e.g. for `custodia ingest --keep-stages DIR`. Its time is not
  // counted in the stage's. Empty: not called.
  std::function<void(std::string_view stage, const Image& image)> on_stage;
};

struct StageTime {
  std::string stage;  // as on_stage gets it
  double ms = 0;
};

struct CleanupReport {
  int input_dpi = 0;         // the page's as Prepare (or Clean) found it
  bool dpi_guessed = false;  // Image::dpi was 0 or implausible: guessed as an A4 sheet
  int output_dpi = 0;
  double skew_degrees = 0;        // measured and corrected; positive: the text rose to the right
  int borders = 0;                // dark border regions painted white
  int punch_holes = 0;            // painted white
  int specks = 0;                 // removed
  double ink_fraction = 0;        // after Clean
  bool blank = false;             // ink_fraction <= CleanupOptions::blank_max_ink
  std::vector<StageTime> stages;  // in the order they ran
};

// A page on its way through cleanup, with what was done to it so far.
struct Cleaned {
  Image image;
  CleanupReport report;
};

// Converts `page` to gray and resamples it to the target dpi when it is
// outside [min_dpi, max_dpi]; the dpi comes from Image::dpi or, when that is
// 0 or implies a sheet under 1.5 or over 30 inches long, from the page's size
// as an A4 sheet. The result's Image::dpi is the dpi after resampling.
// kInvalidArgument, with the reason, for a page cleanup cannot handle: empty
// or malformed, under 16 pixels a side, over 20 times as long as it is wide,
// or all black. An all-white page is not an error (Clean reports it blank).
// kInternal if OpenCV fails (out of memory).
Result<Cleaned> Prepare(const Image& page, const CleanupOptions& options = {});

// Runs the Clean stages (deskew .. binarize) on `page` (normally Prepare's
// output, any Image works: {.image = image}), adding to its report. The page
// keeps its size. Errors as for Prepare.
Result<Cleaned> Clean(Cleaned page, const CleanupOptions& options = {});

// Turns `image` clockwise by `quarter_turns` x 90 degrees (negative:
// counter-clockwise; taken modulo 4). Any channel count; dpi is kept.
// kInvalidArgument for an empty or malformed image.
Result<Image> RotateQuarterTurns(const Image& image, int quarter_turns);

// OpenCV runs parts of some stages on worker threads of its own, shared by
// the whole process (by default one per core). A caller that already cleans
// one page per core, as the pipeline's workers do, should set 1 so that the
// two do not compete; 0 restores the default. Results do not depend on it.
// Returns the previous number.
int SetCleanupThreads(int threads);

// Whether `page` (normally Clean's output) is blank: its ink, less specks
// away from other ink and a 2% margin, covers at most
// options.blank_max_ink of it. Errors as for Prepare (all black included).
Result<bool> IsBlank(const Image& page, const CleanupOptions& options = {});

// The PNG file bytes of `image` (gray, RGB or RGBA; the dpi is written when
// set), e.g. for `custodia ingest --keep-stages DIR`. kInvalidArgument for an
// empty or malformed image.
Result<std::vector<std::uint8_t>> EncodePng(const Image& image);

}  // namespace custodia::capture

// Hot folders and separator sheets: part of this module's interface.
#include "capture/barcode.h"
#include "capture/hot_folder.h"

#endif  // CUSTODIA_CAPTURE_CAPTURE_H_
