// capture/page_source.h (internal): the per-format readers behind
// capture::Document. Callers outside capture/ include only capture.h.
#ifndef CUSTODIA_CAPTURE_PAGE_SOURCE_H_
#define CUSTODIA_CAPTURE_PAGE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "capture/capture.h"

namespace custodia::capture {

// One opened file. Implementations keep a reference to the bytes they were
// opened on; the caller keeps those alive.
class PageSource {
 public:
  virtual ~PageSource() = default;
  virtual int page_count() const = 0;
  // REQUIRES: 0 <= index < page_count(). Fills everything but Page::number.
  virtual Result<Page> ReadPage(int index) = 0;
};

// Opens a PNG, JPEG or TIFF through Leptonica. kCorruption if its header or
// page directory cannot be read.
Result<std::unique_ptr<PageSource>> OpenImagePages(std::span<const std::uint8_t> bytes,
                                                   Format format, const Options& options);

// Opens a PDF through poppler-cpp. kPermissionDenied if it needs a password,
// kCorruption if it cannot be parsed or has no pages.
Result<std::unique_ptr<PageSource>> OpenPdfPages(std::span<const std::uint8_t> bytes,
                                                 const Options& options);

// OpenPdfPages on a file that poppler reads as it needs it (a long PDF is
// never held whole). The file must not change while the source is open.
Result<std::unique_ptr<PageSource>> OpenPdfFile(const std::string& path, const Options& options);

// Document::ExtractPages (split.cc): a PDF's pages copied by qpdf from the
// file `path` (or from `bytes` when path is empty); a TIFF's pages written
// again as a multi-page TIFF.
Result<std::vector<std::uint8_t>> ExtractPdfPages(const std::string& path,
                                                  std::span<const std::uint8_t> bytes,
                                                  std::span<const int> indexes);
Result<std::vector<std::uint8_t>> ExtractTiffPages(std::span<const std::uint8_t> bytes,
                                                   std::span<const int> indexes);

// "page 3" (1-based), the context every per-page error message starts with.
inline std::string PageContext(int index) { return "page " + std::to_string(index + 1); }

// "4961x7016 pixels (34.8 Mpx) is over the limit of 100 Mpx (Options::max_pixels)".
std::string OverLimitMessage(std::int64_t width, std::int64_t height, std::int64_t max_pixels);

}  // namespace custodia::capture

#endif  // CUSTODIA_CAPTURE_PAGE_SOURCE_H_
