// ocr/pdf.h (internal): a one-page searchable PDF from a recognised page.
#ifndef CUSTODIA_OCR_PDF_H_
#define CUSTODIA_OCR_PDF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "ocr/leptonica.h"

namespace tesseract {
class TessBaseAPI;
}

namespace custodia::ocr {

// Renders the page `api` has just recognised with Tesseract's PDF renderer:
// `background` (owned from here on; the recognised image's size, with its
// dpi) as the picture, the words as invisible text over it. The renderer
// only writes files, so it writes a private temporary file in `temp_dir`
// (empty: $TMPDIR, else /tmp), which is read back and removed before the
// call returns. kUnavailable without pdf.ttf in the tessdata folder; kIo
// when the temporary file cannot be created, written or read.
// REQUIRES: `api` has recognised a page and `background` is not null.
Result<std::vector<std::uint8_t>> RenderPdfPage(tesseract::TessBaseAPI& api, PixPtr background,
                                                const std::string& temp_dir);

}  // namespace custodia::ocr

#endif  // CUSTODIA_OCR_PDF_H_
