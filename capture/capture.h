// capture/capture.h: turns a file's bytes into pages: images through
// Leptonica (PNG, JPEG, multi-page TIFF), PDFs through Poppler (a page with
// a usable text layer gives its text; a scanned page is rendered).
#ifndef CUSTODIA_CAPTURE_CAPTURE_H_
#define CUSTODIA_CAPTURE_CAPTURE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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
};

struct Page {
  int number = 0;          // 1-based
  bool has_text = false;   // true: `text` is the page's text layer
  std::string text;
  Image image;             // the page to OCR when !has_text
};

// A document opened for reading page by page, so that a long PDF is never
// held decoded as a whole. Keeps a reference to `bytes`, which must outlive it.
class Document {
 public:
  // kUnsupported for formats we do not read, kCorruption for a damaged file,
  // kPermissionDenied for an encrypted PDF that needs a password to open (one
  // with only owner-password restrictions, such as no-copy, is read),
  // kInvalidArgument for an empty one.
  static Result<Document> Open(std::span<const std::uint8_t> bytes, const Options& options = {});

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  Format format() const;
  int page_count() const;
  // REQUIRES: 0 <= index < page_count(). kInvalidArgument if the page is
  // larger than Options::max_pixels; kCorruption if it cannot be decoded.
  Result<Page> ReadPage(int index);

 private:
  struct Impl;
  explicit Document(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::capture

#endif  // CUSTODIA_CAPTURE_CAPTURE_H_
