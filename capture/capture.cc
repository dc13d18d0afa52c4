// capture/capture.cc: format sniffing and the Document facade over the
// per-format page readers (image_pages.cc, pdf_pages.cc).
#include "capture/capture.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>

#include "base/env.h"
#include "capture/page_source.h"

namespace custodia::capture {
namespace {

// Magic numbers contain NUL bytes, so they are always string_view literals.
using std::string_view_literals::operator""sv;

constexpr char kAccepted[] = "custodia reads png, jpeg, tiff and pdf";
// PDF readers accept a header preceded by junk (mail gateways and some
// scanners prepend bytes); the de facto window is the first 1024 bytes.
constexpr std::size_t kPdfHeaderWindow = 1024;

bool StartsWith(std::span<const std::uint8_t> bytes, std::string_view magic) {
  return bytes.size() >= magic.size() &&
         std::equal(magic.begin(), magic.end(), bytes.begin(),
                    [](char m, std::uint8_t b) { return static_cast<std::uint8_t>(m) == b; });
}

bool HasAt(std::span<const std::uint8_t> bytes, std::size_t offset, std::string_view magic) {
  return bytes.size() >= offset && StartsWith(bytes.subspan(offset), magic);
}

bool ContainsPdfHeader(std::span<const std::uint8_t> bytes) {
  constexpr std::string_view kMagic = "%PDF-";
  auto window = bytes.first(std::min(bytes.size(), kPdfHeaderWindow));
  return std::search(window.begin(), window.end(), kMagic.begin(), kMagic.end(),
                     [](std::uint8_t b, char m) { return b == static_cast<std::uint8_t>(m); }) !=
         window.end();
}

// True if the first bytes are printable ASCII, whitespace or UTF-8
// continuation/lead bytes, i.e. the file is most likely text.
bool LooksLikeText(std::span<const std::uint8_t> bytes) {
  auto head = bytes.first(std::min<std::size_t>(bytes.size(), 512));
  return std::all_of(head.begin(), head.end(), [](std::uint8_t b) {
    return b == '\t' || b == '\n' || b == '\r' || (b >= 0x20 && b != 0x7f);
  });
}

// What an unsupported file looks like, or "" when we cannot tell.
std::string_view Describe(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return "an empty file";
  if (StartsWith(bytes, "PK\x03\x04"sv)) {
    return "a zip archive (office documents such as docx, xlsx and odt are zip archives)";
  }
  if (StartsWith(bytes, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv)) {
    return "a legacy office document (doc, xls, ppt)";
  }
  if (StartsWith(bytes, "GIF87a"sv) || StartsWith(bytes, "GIF89a"sv)) return "a gif image";
  if (StartsWith(bytes, "RIFF"sv) && HasAt(bytes, 8, "WEBP"sv)) return "a webp image";
  if (StartsWith(bytes, "BM"sv) && HasAt(bytes, 6, "\x00\x00\x00\x00"sv)) return "a bmp image";
  if (HasAt(bytes, 4, "ftypheic"sv) || HasAt(bytes, 4, "ftypheix"sv) ||
      HasAt(bytes, 4, "ftypmif1"sv)) {
    return "a heic image";
  }
  if (StartsWith(bytes, "\x00\x00\x00\x0CjP  "sv) || StartsWith(bytes, "\xFF\x4F\xFF\x51"sv)) {
    return "a jpeg 2000 image";
  }
  if (StartsWith(bytes, "II+\x00"sv) || StartsWith(bytes, "MM\x00+"sv)) return "a bigtiff image";
  if (LooksLikeText(bytes)) return "plain text";
  return "";
}

std::string HexPrefix(std::span<const std::uint8_t> bytes) {
  std::string out;
  for (std::uint8_t b : bytes.first(std::min<std::size_t>(bytes.size(), 8))) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x ", b);
    out += buf;
  }
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace

const char* FormatName(Format format) {
  switch (format) {
    case Format::kPng:
      return "png";
    case Format::kJpeg:
      return "jpeg";
    case Format::kTiff:
      return "tiff";
    case Format::kPdf:
      return "pdf";
  }
  return "unknown";
}

Result<Format> Sniff(std::span<const std::uint8_t> bytes) {
  if (StartsWith(bytes, "\x89PNG\r\n\x1A\n"sv)) return Format::kPng;
  if (StartsWith(bytes, "\xFF\xD8\xFF"sv)) return Format::kJpeg;
  if (StartsWith(bytes, "II*\x00"sv) || StartsWith(bytes, "MM\x00*"sv)) return Format::kTiff;
  if (ContainsPdfHeader(bytes)) return Format::kPdf;
  std::string_view looks_like = Describe(bytes);
  if (!looks_like.empty()) {
    return Fail(Code::kUnsupported, "capture: unsupported format: looks like " +
                                        std::string(looks_like) + "; " + kAccepted);
  }
  return Fail(Code::kUnsupported, "capture: unsupported format: unrecognised content (starts " +
                                      HexPrefix(bytes) + "); " + kAccepted);
}

std::string OverLimitMessage(std::int64_t width, std::int64_t height, std::int64_t max_pixels) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "%lldx%lld pixels (%.1f Mpx) is over the limit of %.1f Mpx "
                "(Options::max_pixels); refused without decoding",
                static_cast<long long>(width), static_cast<long long>(height),
                static_cast<double>(width) * static_cast<double>(height) / 1e6,
                static_cast<double>(max_pixels) / 1e6);
  return buf;
}

struct Document::Impl {
  Format format;
  Bytes owned;  // an image file's bytes, when opened by OpenFile; before `source`, which reads them
  std::unique_ptr<PageSource> source;
  std::string path;                     // OpenFile's file; empty after Open
  std::span<const std::uint8_t> bytes;  // Open's bytes, or `owned`
};

Document::Document(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

namespace {

Status CheckOptions(const Options& options) {
  if (options.max_pixels <= 0 || options.render_dpi <= 0 || options.min_text_chars < 0 ||
      options.sparse_text_chars < 0 || options.sparse_render_dpi <= 0) {
    return Fail(Code::kInvalidArgument,
                "capture: options: max_pixels and the dpis must be positive, "
                "min_text_chars and sparse_text_chars not negative");
  }
  return Ok();
}

}  // namespace

Result<Document> Document::Open(std::span<const std::uint8_t> bytes, const Options& options) {
  CU_TRY(CheckOptions(options));
  if (bytes.empty()) return Fail(Code::kInvalidArgument, "capture: empty file (0 bytes)");
  CU_ASSIGN_OR_RETURN(Format format, Sniff(bytes));
  std::unique_ptr<PageSource> source;
  if (format == Format::kPdf) {
    CU_ASSIGN_OR_RETURN(source, OpenPdfPages(bytes, options));
  } else {
    CU_ASSIGN_OR_RETURN(source, OpenImagePages(bytes, format, options));
  }
  return Document(std::make_unique<Impl>(Impl{format, {}, std::move(source), "", bytes}));
}

Result<Document> Document::OpenFile(const std::string& path, const Options& options) {
  CU_TRY(CheckOptions(options));
  Format format;
  {
    // The format is told by the first bytes; only an image is read whole.
    CU_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> in, Env::Default()->NewSequentialFile(path));
    Bytes head(kPdfHeaderWindow);
    std::size_t have = 0;
    while (have < head.size()) {
      CU_ASSIGN_OR_RETURN(std::size_t n, in->Read(std::span(head).subspan(have)));
      if (n == 0) break;
      have += n;
    }
    head.resize(have);
    if (head.empty()) return Fail(Code::kInvalidArgument, "capture: empty file (0 bytes)");
    CU_ASSIGN_OR_RETURN(format, Sniff(head));
  }
  auto impl = std::make_unique<Impl>();
  impl->format = format;
  if (format == Format::kPdf) {
    CU_ASSIGN_OR_RETURN(impl->source, OpenPdfFile(path, options));
  } else {
    CU_ASSIGN_OR_RETURN(impl->owned, Env::Default()->ReadFile(path));
    CU_ASSIGN_OR_RETURN(impl->source, OpenImagePages(impl->owned, format, options));
    impl->bytes = impl->owned;
  }
  impl->path = path;
  return Document(std::move(impl));
}

Format Document::format() const { return impl_->format; }

int Document::page_count() const { return impl_->source->page_count(); }

Result<std::vector<std::uint8_t>> Document::ExtractPages(std::span<const int> indexes) {
  if (indexes.empty()) return Fail(Code::kInvalidArgument, "capture: extract: no pages");
  for (int i : indexes) {
    if (i < 0 || i >= page_count()) {
      return Fail(Code::kInvalidArgument, "capture: extract: no page " + std::to_string(i + 1));
    }
  }
  const Impl& d = *impl_;
  switch (d.format) {
    case Format::kPdf:
      return ExtractPdfPages(d.path, d.bytes, indexes);
    case Format::kTiff:
      return ExtractTiffPages(d.bytes, indexes);
    case Format::kPng:
    case Format::kJpeg:
      break;
  }
  return std::vector<std::uint8_t>(d.bytes.begin(), d.bytes.end());
}

Result<Page> Document::ReadPage(int index) {
  CU_CHECK(index >= 0 && index < page_count());
  CU_ASSIGN_OR_RETURN(Page page, impl_->source->ReadPage(index));
  page.number = index + 1;
  return page;
}

}  // namespace custodia::capture
