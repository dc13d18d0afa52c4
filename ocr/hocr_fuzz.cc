// ocr/hocr_fuzz.cc: libFuzzer target over what MergeHocr writes into the
// hOCR document that is sealed with every OCR'd document (issue 8): the
// title (the name of the file a station dropped, any bytes a file system
// allows) around Tesseract's page fragments. The output must be well-formed
// XML whatever the title holds, and a title that is valid UTF-8 of XML
// characters must come back exactly; no crash, hang or leak. Pages are
// fragments in Tesseract's shape: their text was escaped by Tesseract, not
// by us. Built with -DCU_FUZZ=ON (clang); seeds by scripts/fuzz.sh (the
// samples' texts).
#include <fuzzer/FuzzedDataProvider.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ocr/ocr.h"

using namespace custodia;

namespace {

[[noreturn]] void Die(const char* what, const std::string& xml) {
  std::fprintf(stderr, "hocr_fuzz: %s\n%s\n", what, xml.c_str());
  ::abort();
}

// Whether `s` is UTF-8 of characters XML 1.0 allows (section 2.2).
bool IsXmlText(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3f);
    }
    static const std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff) return false;
    const bool legal = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
                       (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
    if (!legal) return false;
    i += n;
  }
  return true;
}

xmlNode* Child(xmlNode* parent, const char* name) {
  for (xmlNode* n = parent == nullptr ? nullptr : parent->children; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0) {
      return n;
    }
  }
  return nullptr;
}

const char kPage[] =
    "  <div class='ocr_page' id='page_%d' title='image \"\"; bbox 0 0 2480 3508; ppageno %d'>\n"
    "   <div class='ocr_carea' id='block_%d_1' title=\"bbox 200 300 900 400\">\n"
    "    <p class='ocr_par' id='par_%d_1' lang='spa' title=\"bbox 200 300 900 400\">\n"
    "     <span class='ocr_line' id='line_%d_1' title=\"bbox 200 300 900 400; baseline 0 -5\">\n"
    "      <span class='ocrx_word' id='word_%d_1' title='bbox 200 300 500 400; x_wconf 96'>"
    "Factura</span>\n"
    "      <span class='ocrx_word' id='word_%d_2' title='bbox 520 300 900 400; x_wconf 91'>"
    "n.&#186;&#160;&lt;12&gt;</span>\n"
    "     </span>\n"
    "    </p>\n"
    "   </div>\n"
    "  </div>\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<std::string> pages(in.ConsumeIntegralInRange(0, 3));
  for (std::size_t p = 0; p < pages.size(); ++p) {
    char buf[sizeof kPage + 64];
    const int n = static_cast<int>(p);
    std::snprintf(buf, sizeof buf, kPage, n, n, n, n, n, n, n);
    pages[p] = buf;
  }
  const std::string title = in.ConsumeRemainingBytesAsString();
  const std::string hocr = ocr::MergeHocr(pages, title);

  xmlDoc* doc = xmlReadMemory(hocr.data(), static_cast<int>(hocr.size()), "hocr.xhtml", "UTF-8",
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) Die("MergeHocr wrote XML that is not well-formed", hocr);
  xmlNode* node = Child(Child(xmlDocGetRootElement(doc), "head"), "title");
  if (node == nullptr) Die("no title", hocr);
  xmlChar* content = xmlNodeGetContent(node);
  const std::string got = content == nullptr ? "" : reinterpret_cast<const char*>(content);
  xmlFree(content);
  xmlFreeDoc(doc);
  if (IsXmlText(title) && got != title) Die("the title does not come back as it was", hocr);
  return 0;
}
