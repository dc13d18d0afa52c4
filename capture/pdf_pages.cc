// capture/pdf_pages.cc: PDF pages through poppler-cpp. A page whose text
// layer is usable gives that text; any other page is rendered for OCR.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "capture/page_source.h"

namespace custodia::capture {
namespace {

constexpr double kPointsPerInch = 72.0;

// Poppler reports every syntax error of a damaged file on stderr; we report
// failures as Results instead. The handler is process-wide.
void QuietPoppler() {
  static std::once_flag once;
  std::call_once(
      once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

// Decodes one UTF-8 code point at `*i` (advancing it); U+FFFD on a bad byte.
char32_t NextCodePoint(const std::string& s, std::size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[(*i)++]);
  if (b0 < 0x80) return b0;
  int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC0 ? 1 : -1;
  if (extra < 0) return 0xFFFD;
  char32_t cp = b0 & (0x3F >> extra);
  for (; extra > 0; --extra) {
    if (*i >= s.size() || (static_cast<unsigned char>(s[*i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[(*i)++]) & 0x3F);
  }
  return cp;
}

// Counts the letters and digits of `utf8`: ASCII alphanumerics and code
// points beyond Latin-1's symbols, minus punctuation and symbol blocks,
// private-use glyphs and U+FFFD (what fonts without a usable ToUnicode map
// tend to produce, and which is no text to index).
int CountLettersAndDigits(const std::string& utf8) {
  int count = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = NextCodePoint(utf8, &i);
    const bool ascii_alnum =
        (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z');
    const bool other_letter = cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 &&
                              !(cp >= 0x2000 && cp <= 0x2BFF) && !(cp >= 0x3000 && cp <= 0x303F) &&
                              !(cp >= 0xE000 && cp <= 0xF8FF) && !(cp >= 0xFFF0 && cp <= 0xFFFF);
    if (ascii_alnum || other_letter) ++count;
  }
  return count;
}

// Each line of `text` without the spaces the physical layout pads columns
// with: runs of spaces become one, lines lose leading and trailing spaces.
// The result reads like Tesseract's line-by-line text of a scan.
std::string CollapseSpaces(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && c != '\n' && !out.empty() && out.back() != '\n') out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string TrimTrailingSpace(std::string s) {
  while (!s.empty() && std::strchr(" \t\r\n\f", s.back()) != nullptr) s.pop_back();
  return s;
}

class PdfPages final : public PageSource {
 public:
  PdfPages(std::unique_ptr<poppler::document> doc, const Options& options)
      : doc_(std::move(doc)), options_(options) {}

  int page_count() const override { return doc_->pages(); }

  Result<Page> ReadPage(int index) override {
    const std::string context = "capture: " + PageContext(index);
    // poppler-cpp does not throw by design, but it allocates; keep any
    // exception on this side of our API.
    try {
      return ReadPageOrThrow(index, context);
    } catch (const std::exception& e) {
      return Fail(Code::kInternal, context + ": pdf reader failed: " + e.what());
    }
  }

 private:
  Result<Page> ReadPageOrThrow(int index, const std::string& context) {
    std::unique_ptr<poppler::page> page(doc_->create_page(index));
    if (!page) {
      return Fail(Code::kCorruption, context + ": missing from the pdf page tree (damaged file)");
    }
    // Taken before text(): poppler releases before 22.x swapped the crop box
    // of a rotated page in place while extracting its text.
    const poppler::rectf box = page->page_rect(poppler::crop_box);
    Page out;
    // The physical layout (pdftotext -layout), line by line across the
    // page, as Tesseract reads scanned forms (docs/ocr.md): a label and its
    // value stay on one line ("TOTAL FACTURA: 728,86 €"), where reading
    // order would put a table's columns one after the other. Prose set in
    // columns is interleaved; back-office PDFs are forms.
    const poppler::byte_array utf8 =
        page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
    std::string text = CollapseSpaces(std::string_view(utf8.data(), utf8.size()));
    const int letters = CountLettersAndDigits(text);
    if (letters >= options_.min_text_chars) {
      out.has_text = true;
      out.text = TrimTrailingSpace(std::move(text));
      if (letters < options_.sparse_text_chars) {
        CU_ASSIGN_OR_RETURN(out.image, Render(*page, box, context, options_.sparse_render_dpi));
      }
      return out;
    }
    CU_ASSIGN_OR_RETURN(out.image, Render(*page, box, context, options_.render_dpi));
    return out;
  }

  // Renders `page`, whose crop box is `box` (in points), at `dpi`.
  Result<Image> Render(const poppler::page& page, const poppler::rectf& box,
                       const std::string& context, int dpi) const {
    if (!poppler::page_renderer::can_render()) {
      return Fail(Code::kUnavailable,
                  context +
                      ": this poppler was built without a renderer; install poppler "
                      "with splash (Debian: libpoppler-cpp0v5)");
    }
    // The crop box is what the renderer draws; /Rotate only swaps the sides.
    const double scale = dpi / kPointsPerInch;
    const double w = std::ceil(box.width() * scale);
    const double h = std::ceil(box.height() * scale);
    if (!(w >= 1 && h >= 1)) {
      return Fail(Code::kCorruption, context + ": the page has no area (damaged page box)");
    }
    if (w * h > static_cast<double>(options_.max_pixels) || w > INT_MAX || h > INT_MAX) {
      return Fail(Code::kInvalidArgument,
                  context + ": rendered at " + std::to_string(dpi) + " dpi, " +
                      OverLimitMessage(static_cast<std::int64_t>(w), static_cast<std::int64_t>(h),
                                       options_.max_pixels));
    }
    poppler::page_renderer renderer;
    renderer.set_render_hints(poppler::page_renderer::antialiasing |
                              poppler::page_renderer::text_antialiasing);
    // Gray, not RGB: OCR reads gray, and it is a third of the memory.
    renderer.set_image_format(poppler::image::format_gray8);
    const poppler::image rendered =
        renderer.render_page(&page, dpi, dpi);
    if (!rendered.is_valid() || rendered.width() <= 0 || rendered.height() <= 0 ||
        rendered.format() != poppler::image::format_gray8) {
      return Fail(Code::kCorruption, context + ": cannot be rendered (damaged page)");
    }
    Image image;
    image.width = rendered.width();
    image.height = rendered.height();
    image.channels = 1;
    image.stride = image.width;
    image.dpi = dpi;
    image.pixels.resize(static_cast<std::size_t>(image.width) *
                        static_cast<std::size_t>(image.height));
    const char* src = rendered.const_data();
    for (int y = 0; y < image.height; ++y) {
      std::memcpy(image.pixels.data() + static_cast<std::size_t>(y) * image.stride,
                  src + static_cast<std::ptrdiff_t>(y) * rendered.bytes_per_row(),
                  static_cast<std::size_t>(image.width));
    }
    return image;
  }

  std::unique_ptr<poppler::document> doc_;
  Options options_;
};

}  // namespace

namespace {

// The checks every opened PDF goes through. `doc` may be null (unparseable).
Result<std::unique_ptr<PageSource>> Checked(std::unique_ptr<poppler::document> doc,
                                            const Options& options) {
  if (!doc) {
    return Fail(Code::kCorruption, "capture: cannot parse the pdf (damaged or truncated file)");
  }
  // Locked means a user (open) password is needed. A file with only an
  // owner password (no-copy, no-print flags) opens and is read: custodia
  // archives it unchanged and needs its text to index it.
  if (doc->is_locked()) {
    return Fail(Code::kPermissionDenied,
                "capture: encrypted PDF: custodia cannot read password-protected files; "
                "remove the password and ingest again");
  }
  if (doc->pages() <= 0) return Fail(Code::kCorruption, "capture: the pdf has no pages");
  return std::unique_ptr<PageSource>(std::make_unique<PdfPages>(std::move(doc), options));
}

}  // namespace

Result<std::unique_ptr<PageSource>> OpenPdfPages(std::span<const std::uint8_t> bytes,
                                                 const Options& options) {
  QuietPoppler();
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    return Fail(Code::kInvalidArgument, "capture: pdf over 2 GiB; split it and ingest the parts");
  }
  try {
    // load_from_raw_data reads `bytes` in place for the document's lifetime.
    return Checked(std::unique_ptr<poppler::document>(poppler::document::load_from_raw_data(
                       reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size()))),
                   options);
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("capture: pdf reader failed: ") + e.what());
  }
}

Result<std::unique_ptr<PageSource>> OpenPdfFile(const std::string& path, const Options& options) {
  QuietPoppler();
  try {
    // Poppler reads the file as it needs it, through a small cache.
    return Checked(std::unique_ptr<poppler::document>(poppler::document::load_from_file(path)),
                   options);
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("capture: pdf reader failed: ") + e.what());
  }
}

}  // namespace custodia::capture
