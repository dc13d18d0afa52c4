// capture/barcode.cc: reading barcodes with zxing-cpp 1.4 and deciding
// whether a page is a separator sheet. zxing-cpp stays in this file;
// docs/separators.md has the measurements behind the choices.

// zxing-cpp 1.4's Result::text() returns UTF-8 std::string only with this
// defined (std::wstring otherwise); it must come before its headers.
#define ZX_USE_UTF8 1
#include "capture/barcode.h"

#include <ZXing/BarcodeFormat.h>
#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <ZXing/Result.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace custodia::capture {
namespace {

constexpr char kContext[] = "capture: barcode: ";
constexpr std::size_t kMaxCaseIdBytes = 64;

// What FindSeparator looks for. QR Code carries the default payload and case
// files; Micro QR, Data Matrix and PDF417 are the other 2-D codes a station
// might print a payload or case file in; Code 39 carries PATCHT and Code 128
// is the usual linear code for a custom payload. Left out: EAN/UPC, ITF,
// Codabar, Code 93 and DataBar cannot hold a payload like "CUSTODIA-SEP"
// (digits only, or fixed structures), and zxing-cpp 1.4 finds an Aztec code
// only at the very centre of the page (a Data Matrix only near its middle
// line), so Aztec would cost time for nothing. docs/separators.md has the
// cost of each.
constexpr ZXing::BarcodeFormats SeparatorFormats() {
  return ZXing::BarcodeFormat::QRCode | ZXing::BarcodeFormat::MicroQRCode |
         ZXing::BarcodeFormat::DataMatrix | ZXing::BarcodeFormat::PDF417 |
         ZXing::BarcodeFormat::Code39 | ZXing::BarcodeFormat::Code128;
}

bool WellFormed(const Image& image) {
  return !image.empty() && image.width > 0 && image.height > 0 &&
         (image.channels == 1 || image.channels == 3 || image.channels == 4) &&
         static_cast<std::int64_t>(image.stride) >=
             static_cast<std::int64_t>(image.width) * image.channels &&
         image.pixels.size() >=
             static_cast<std::size_t>(image.stride) * static_cast<std::size_t>(image.height);
}

ZXing::ImageFormat ZxingFormat(int channels) {
  switch (channels) {
    case 1:
      return ZXing::ImageFormat::Lum;
    case 3:
      return ZXing::ImageFormat::RGB;
    default:
      return ZXing::ImageFormat::RGBX;  // alpha ignored
  }
}

Result<ZXing::BarcodeFormats> ParseFormats(const std::vector<std::string>& names) {
  ZXing::BarcodeFormats formats;
  for (const std::string& name : names) {
    const ZXing::BarcodeFormat format = ZXing::BarcodeFormatFromString(name);
    if (format == ZXing::BarcodeFormat::None) {
      return Fail(Code::kInvalidArgument,
                  kContext + std::string("unknown format \"") + name + "\"");
    }
    formats |= format;
  }
  return formats;
}

struct Decoded {
  ZXing::BarcodeFormat format;
  std::string text;
};

// Reads `page` with `hints`; zxing-cpp's exceptions become errors.
Result<std::vector<Decoded>> Read(const Image& page, const ZXing::DecodeHints& hints) {
  if (!WellFormed(page)) {
    return Fail(Code::kInvalidArgument, kContext + std::string("empty or malformed image"));
  }
  const ZXing::ImageView view(page.pixels.data(), page.width, page.height,
                              ZxingFormat(page.channels), page.stride);
  try {
    std::vector<Decoded> out;
    for (const ZXing::Result& result : ZXing::ReadBarcodes(view, hints)) {
      if (result.isValid()) out.push_back({result.format(), result.text()});
    }
    return out;
  } catch (const std::bad_alloc&) {
    return Fail(Code::kInternal, kContext + std::string("out of memory"));
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, kContext + std::string("zxing-cpp: ") + e.what());
  }
}

ZXing::DecodeHints Hints(const BarcodeOptions& options, ZXing::BarcodeFormats formats) {
  ZXing::DecodeHints hints;
  hints.setFormats(formats)
      .setTryHarder(options.try_harder)
      .setTryRotate(options.try_rotate)
      .setTryCode39ExtendedMode(options.code39_full_ascii)
      // Debian's zxing-cpp 1.4.0 is built with assertions on, and its
      // pyramid merges the results of each layer with Result::operator==,
      // which asserts lineCount() == 1: a linear code read on two layers (a
      // clean Code 128 on a 1200x600 page is enough) aborts the process.
      // Upstream issue #740, fixed after 1.4. barcode_test's
      // ReadBarcodesTest.ReadsFormatAndTextOfEachCode is that page.
      .setTryDownscale(false);
  return hints;
}

bool IsMatrixFormat(ZXing::BarcodeFormat format) {
  return ZXing::BarcodeFormats(ZXing::BarcodeFormat::MatrixCodes).testFlag(format);
}

bool ValidCaseId(std::string_view id) {
  if (id.empty() || id.size() > kMaxCaseIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-';
  });
}

// `text` for a message: at most 80 bytes, control bytes as '?'.
std::string Printable(std::string_view text) {
  std::string out(text.substr(0, 80));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 80) out += "...";
  return out;
}

}  // namespace

Result<std::vector<Barcode>> ReadBarcodes(const Image& page, const BarcodeOptions& options) {
  CU_ASSIGN_OR_RETURN(const ZXing::BarcodeFormats formats, ParseFormats(options.formats));
  CU_ASSIGN_OR_RETURN(std::vector<Decoded> decoded, Read(page, Hints(options, formats)));
  std::vector<Barcode> out;
  out.reserve(decoded.size());
  for (Decoded& code : decoded) out.push_back({ZXing::ToString(code.format), std::move(code.text)});
  return out;
}

Result<Separator> FindSeparator(const Image& page, const SeparatorOptions& options) {
  CU_ASSIGN_OR_RETURN(const std::vector<Decoded> codes,
                      Read(page, Hints(BarcodeOptions{}, SeparatorFormats())));

  Separator separator;
  std::string payload;       // of the first payload or PATCHT code
  std::string case_payload;  // of the first case-file code
  std::string case_file;
  for (const Decoded& code : codes) {
    if (!options.case_prefix.empty() && IsMatrixFormat(code.format) &&
        code.text.starts_with(options.case_prefix)) {
      const std::string id = code.text.substr(options.case_prefix.size());
      if (!ValidCaseId(id)) {
        separator.refused = "capture: separator: case file id \"" + Printable(id) +
                            "\" is not 1..64 of [A-Za-z0-9._/-]";
        return separator;
      }
      if (!case_file.empty() && case_file != id) {
        separator.refused = "capture: separator: two case files on one sheet (\"" + case_file +
                            "\", \"" + id + "\")";
        return separator;
      }
      case_file = id;
      if (case_payload.empty()) case_payload = code.text;
      continue;
    }
    const bool configured = std::find(options.payloads.begin(), options.payloads.end(),
                                      code.text) != options.payloads.end();
    const bool patch_t =
        options.patch_t && code.format == ZXing::BarcodeFormat::Code39 && code.text == "PATCHT";
    if (payload.empty() && (configured || patch_t)) payload = code.text;
  }
  if (payload.empty() && case_payload.empty()) return separator;
  separator.found = true;
  separator.payload = payload.empty() ? case_payload : payload;
  separator.case_file = case_file;
  return separator;
}

}  // namespace custodia::capture
