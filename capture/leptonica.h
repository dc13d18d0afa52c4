// capture/leptonica.h (internal): ownership of Leptonica handles and the
// conversion of a decoded PIX to custodia's Image.
#ifndef CUSTODIA_CAPTURE_LEPTONICA_H_
#define CUSTODIA_CAPTURE_LEPTONICA_H_

#include <leptonica/allheaders.h>

#include <memory>

#include "base/image.h"
#include "base/result.h"

namespace custodia::capture {

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// Turns off Leptonica's messages on stderr, for the whole process (the
// setting is global in Leptonica). Idempotent and thread-safe. Our callers
// get every failure as a Result instead.
void QuietLeptonica();

// Converts `pix` (any depth, colormapped or not, with or without alpha) to
// an 8-bit gray Image (1, 2, 4, 8, 16 bpp, gray colormaps) or an RGB one
// (32 bpp, colour colormaps); alpha is composited onto white, the colour
// of paper. kInternal if Leptonica cannot convert it.
Result<Image> PixToImage(PIX* pix);

}  // namespace custodia::capture

#endif  // CUSTODIA_CAPTURE_LEPTONICA_H_
