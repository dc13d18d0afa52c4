// ocr/leptonica.cc: Image -> PIX conversions for the orientation detector
// and the PDF renderer.
#include "ocr/leptonica.h"

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace custodia::ocr {
namespace {

// ITU-R BT.601 luma, in integers: (77 R + 150 G + 29 B) / 256.
std::uint8_t Luma(const std::uint8_t* rgb) {
  return static_cast<std::uint8_t>((77 * rgb[0] + 150 * rgb[1] + 29 * rgb[2]) >> 8);
}

bool IsBilevel(const Image& image) {
  if (image.channels != 1) return false;
  for (int y = 0; y < image.height; ++y) {
    const std::uint8_t* row = image.row(y);
    for (int x = 0; x < image.width; ++x) {
      if (row[x] != 0 && row[x] != 255) return false;
    }
  }
  return true;
}

}  // namespace

void QuietLeptonica() {
  static std::once_flag once;
  std::call_once(once, [] {
    setMsgSeverity(L_SEVERITY_NONE);
    leptSetStderrHandler([](const char*) {});
  });
}

PixPtr ToGrayPix(const Image& image) {
  PixPtr pix(pixCreate(image.width, image.height, 8));
  if (!pix) return nullptr;
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < image.height; ++y) {
    const std::uint8_t* src = image.row(y);
    l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < image.width; ++x) {
      const std::uint8_t* px = src + static_cast<std::ptrdiff_t>(x) * image.channels;
      SET_DATA_BYTE(line, x, image.channels == 1 ? px[0] : Luma(px));
    }
  }
  return pix;
}

PixPtr ToPdfPix(const Image& image, int dpi) {
  PixPtr pix;
  if (IsBilevel(image)) {
    // In a 1-bpp PIX, 1 is black.
    pix.reset(pixCreate(image.width, image.height, 1));
    if (!pix) return nullptr;
    l_uint32* data = pixGetData(pix.get());
    const int wpl = pixGetWpl(pix.get());
    for (int y = 0; y < image.height; ++y) {
      const std::uint8_t* src = image.row(y);
      l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
      for (int x = 0; x < image.width; ++x) {
        if (src[x] == 0) SET_DATA_BIT(line, x);
      }
    }
  } else if (image.channels == 1) {
    pix = ToGrayPix(image);
    if (!pix) return nullptr;
  } else {
    pix.reset(pixCreate(image.width, image.height, 32));
    if (!pix) return nullptr;
    // Three samples per pixel: the PDF renderer has no alpha (no /SMask).
    pixSetSpp(pix.get(), 3);
    l_uint32* data = pixGetData(pix.get());
    const int wpl = pixGetWpl(pix.get());
    for (int y = 0; y < image.height; ++y) {
      const std::uint8_t* src = image.row(y);
      l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
      for (int x = 0; x < image.width; ++x) {
        const std::uint8_t* px = src + static_cast<std::ptrdiff_t>(x) * image.channels;
        l_uint32 value = 0;
        composeRGBPixel(px[0], px[1], px[2], &value);
        line[x] = value;
      }
    }
  }
  pixSetResolution(pix.get(), dpi, dpi);
  return pix;
}

}  // namespace custodia::ocr
