// ocr/leptonica.h (internal): ownership of Leptonica handles and the
// conversion of custodia's Image to the PIX that Tesseract takes.
#ifndef CUSTODIA_OCR_LEPTONICA_H_
#define CUSTODIA_OCR_LEPTONICA_H_

#include <leptonica/allheaders.h>

#include <memory>

#include "base/image.h"

namespace custodia::ocr {

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

struct BoxDeleter {
  void operator()(BOX* box) const { boxDestroy(&box); }
};
using BoxPtr = std::unique_ptr<BOX, BoxDeleter>;

struct BoxaDeleter {
  void operator()(BOXA* boxa) const { boxaDestroy(&boxa); }
};
using BoxaPtr = std::unique_ptr<BOXA, BoxaDeleter>;

// Turns off Leptonica's messages on stderr, for the whole process (the
// setting is global in Leptonica). Idempotent and thread-safe; our callers
// get every failure as a Result instead.
void QuietLeptonica();

// REQUIRES: `image` is well formed (as Engine::Read checks).
// An 8-bit gray PIX of `image`; colour is reduced to luminance.
PixPtr ToGrayPix(const Image& image);

// REQUIRES: as ToGrayPix. A PIX for the background of a PDF page: 1 bpp
// when `image` is gray and holds only 0 and 255 (stored as CCITT G4), 8 bpp
// for other gray images, 32 bpp RGB for colour (alpha is dropped). The
// resolution is `dpi` both ways. nullptr when Leptonica runs out of memory.
PixPtr ToPdfPix(const Image& image, int dpi);

}  // namespace custodia::ocr

#endif  // CUSTODIA_OCR_LEPTONICA_H_
