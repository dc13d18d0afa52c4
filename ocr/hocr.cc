// ocr/hocr.cc: one hOCR document from the pages of several Engines. The
// head is the one Tesseract's TessHOcrRenderer writes, so readers of
// Tesseract's hOCR read ours.
#include <tesseract/baseapi.h>

#include <string>
#include <string_view>

#include "ocr/ocr.h"

namespace custodia::ocr {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s`, or, if
// it is ill-formed, minus the length of its maximal ill-formed part (at
// least 1), as Unicode 15 section 3.9 (U+FFFD substitution) defines it.
// `*cp` receives the code point of a well-formed sequence.
int Utf8Sequence(std::string_view s, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  char32_t v = b0 & (0xff >> (n + 1));
  for (int k = 1; k < n; ++k) {
    if (static_cast<std::size_t>(k) >= s.size()) return -k;
    const auto b = static_cast<unsigned char>(s[k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return -k;
    v = v << 6 | (b & 0x3f);
  }
  *cp = v;
  return n;
}

// Whether XML 1.0 allows `cp` in a document (section 2.2, Char).
bool IsXmlChar(char32_t cp) {
  return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
         (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

// `text` as XML character data. Text from outside (a file name: any bytes
// but '/' and NUL) may hold what XML cannot carry even escaped: ill-formed
// UTF-8 and control characters. Each becomes U+FFFD, so the document stays
// well-formed; "\r" is written as a reference, which a parser keeps (a
// literal one it would read as "\n").
std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t cp = 0;
    const int n = Utf8Sequence(text, &cp);
    if (n < 0 || !IsXmlChar(cp)) {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      text.remove_prefix(static_cast<std::size_t>(n < 0 ? -n : n));
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out.append(text.substr(0, static_cast<std::size_t>(n)));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::string MergeHocr(std::span<const std::string> pages, std::string_view title) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
      "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
      " <head>\n"
      "  <title>";
  out += EscapeXml(title);
  out +=
      "</title>\n"
      "  <meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
      "  <meta name='ocr-system' content='tesseract ";
  out += EscapeXml(tesseract::TessBaseAPI::Version());
  // Tesseract's pages carry lang= on paragraphs (ocrp_lang) besides bbox
  // and x_wconf.
  out +=
      "' />\n"
      "  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word "
      "ocrp_wconf ocrp_lang'/>\n"
      " </head>\n"
      " <body>\n";
  for (const std::string& page : pages) out += page;
  out += " </body>\n</html>\n";
  return out;
}

}  // namespace custodia::ocr
