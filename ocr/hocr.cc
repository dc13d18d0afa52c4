// ocr/hocr.cc: one hOCR document from the pages of several Engines. The
// head is the one Tesseract's TessHOcrRenderer writes, so readers of
// Tesseract's hOCR read ours.
#include <tesseract/baseapi.h>

#include <string>
#include <string_view>

#include "ocr/ocr.h"

namespace custodia::ocr {
namespace {

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
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
      default:
        out += c;
    }
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
