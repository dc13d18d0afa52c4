// capture/split.cc: the pages of one document split out of a batch, as a
// file of the batch's own format (Document::ExtractPages).
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "capture/leptonica.h"
#include "capture/page_source.h"

namespace custodia::capture {

Result<std::vector<std::uint8_t>> ExtractPdfPages(const std::string& path,
                                                  std::span<const std::uint8_t> bytes,
                                                  std::span<const int> indexes) {
  try {
    QPDF input;
    input.setSuppressWarnings(true);
    if (!path.empty()) {
      input.processFile(path.c_str());
    } else {
      input.processMemoryFile("batch", reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(input).getAllPages();
    QPDF out;
    out.emptyPDF();
    QPDFPageDocumentHelper out_pages(out);
    for (int i : indexes) {
      if (i < 0 || static_cast<std::size_t>(i) >= pages.size()) {
        return Fail(Code::kCorruption, "capture: extract: qpdf finds no page " + std::to_string(i + 1) +
                                           " (poppler did; the page tree is damaged)");
      }
      out_pages.addPage(pages[static_cast<std::size_t>(i)], /*first=*/false);
    }
    QPDFWriter writer(out);
    writer.setOutputMemory();
    writer.setDeterministicID(true);  // the same pages, the same bytes
    writer.write();
    const std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
    const unsigned char* data = buffer->getBuffer();
    return std::vector<std::uint8_t>(data, data + buffer->getSize());
  } catch (const std::exception& e) {
    return Fail(Code::kCorruption, std::string("capture: extract: qpdf cannot copy the pages: ") + e.what());
  }
}

Result<std::vector<std::uint8_t>> ExtractTiffPages(std::span<const std::uint8_t> bytes,
                                                   std::span<const int> indexes) {
  struct PixaDeleter {
    void operator()(PIXA* p) const { pixaDestroy(&p); }
  };
  std::unique_ptr<PIXA, PixaDeleter> pixa(pixaCreate(static_cast<l_int32>(indexes.size())));
  if (!pixa) return Fail(Code::kInternal, "capture: extract: out of memory");
  for (int i : indexes) {
    PIX* pix = pixReadMemTiff(bytes.data(), bytes.size(), i);
    if (pix == nullptr) {
      return Fail(Code::kCorruption, "capture: extract: " + PageContext(i) + " cannot be decoded");
    }
    pixaAddPix(pixa.get(), pix, L_INSERT);
  }
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixaWriteMemMultipageTiff(&data, &size, pixa.get()) != 0 || data == nullptr) {
    return Fail(Code::kInternal, "capture: extract: cannot write the TIFF");
  }
  std::vector<std::uint8_t> out(data, data + size);
  lept_free(data);
  return out;
}

}  // namespace custodia::capture
