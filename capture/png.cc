// capture/png.cc: PNG encoding of a page image with Leptonica, for
// `custodia ingest --keep-stages` (and anything else that shows a person
// what the pipeline saw).
#include <cstdlib>

#include "capture/capture.h"
#include "capture/leptonica.h"

namespace custodia::capture {

Result<std::vector<std::uint8_t>> EncodePng(const Image& image) {
  if (image.empty() || (image.channels != 1 && image.channels != 3 && image.channels != 4) ||
      image.stride < image.width * image.channels ||
      image.pixels.size() < static_cast<std::size_t>(image.stride) * image.height) {
    return Fail(Code::kInvalidArgument, "png: empty or malformed image");
  }
  QuietLeptonica();
  const bool gray = image.channels == 1;
  PixPtr pix(pixCreate(image.width, image.height, gray ? 8 : 32));
  if (!pix) return Fail(Code::kInternal, "png: out of memory");
  if (image.dpi > 0) pixSetResolution(pix.get(), image.dpi, image.dpi);
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < image.height; ++y) {
    const std::uint8_t* in = image.row(y);
    l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < image.width; ++x) {
      if (gray) {
        SET_DATA_BYTE(line, x, in[x]);
      } else {
        const std::uint8_t* p = in + static_cast<std::ptrdiff_t>(x) * image.channels;
        composeRGBPixel(p[0], p[1], p[2], line + x);
      }
    }
  }
  l_uint8* bytes = nullptr;
  size_t size = 0;
  if (pixWriteMem(&bytes, &size, pix.get(), IFF_PNG) != 0 || bytes == nullptr) {
    return Fail(Code::kInternal, "png: Leptonica could not encode the image");
  }
  std::vector<std::uint8_t> out(bytes, bytes + size);
  lept_free(bytes);
  return out;
}

}  // namespace custodia::capture
