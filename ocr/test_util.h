// ocr/test_util.h (tests only): fixtures for the ocr tests, decoded and
// turned with Leptonica directly (leaf modules cannot use capture/).
#ifndef CUSTODIA_OCR_TEST_UTIL_H_
#define CUSTODIA_OCR_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <leptonica/allheaders.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "base/image.h"

namespace custodia::ocr::testutil {

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// `pix` (any depth) as an 8-bit gray Image, or RGB with `rgb` (the gray
// level in all three channels), with `pix`'s resolution.
inline Image PixToImage(PIX* pix, bool rgb = false) {
  PixPtr gray(pixConvertTo8(pix, 0));
  Image image;
  image.width = pixGetWidth(gray.get());
  image.height = pixGetHeight(gray.get());
  image.channels = rgb ? 3 : 1;
  image.stride = image.width * image.channels;
  image.dpi = pixGetXRes(pix);
  image.pixels.reserve(static_cast<std::size_t>(image.stride) * image.height);
  const l_uint32* data = pixGetData(gray.get());
  const int wpl = pixGetWpl(gray.get());
  for (int y = 0; y < image.height; ++y) {
    const l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < image.width; ++x) {
      const auto v = static_cast<std::uint8_t>(GET_DATA_BYTE(line, x));
      for (int c = 0; c < image.channels; ++c) image.pixels.push_back(v);
    }
  }
  return image;
}

// A gray Image as an 8-bit PIX. REQUIRES: image.channels == 1.
inline PixPtr ImageToPix(const Image& image) {
  PixPtr pix(pixCreate(image.width, image.height, 8));
  l_uint32* data = pixGetData(pix.get());
  const int wpl = pixGetWpl(pix.get());
  for (int y = 0; y < image.height; ++y) {
    l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
    for (int x = 0; x < image.width; ++x) SET_DATA_BYTE(line, x, image.row(y)[x]);
  }
  pixSetResolution(pix.get(), image.dpi, image.dpi);
  return pix;
}

// Reads the image at `path`; an empty Image (and a test failure) if it
// cannot.
inline Image LoadImage(const std::string& path, bool rgb = false) {
  PixPtr pix(pixRead(path.c_str()));
  if (!pix) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return PixToImage(pix.get(), rgb);
}

// Loads ocr/testdata/`name` as an 8-bit gray Image (or RGB with `rgb`).
inline Image LoadFixture(const std::string& name, bool rgb = false) {
  return LoadImage(std::string(CU_OCR_TESTDATA) + "/" + name, rgb);
}

// The shared test data folder (CUSTODIA_TESTDATA), or "" when unset.
inline std::string SharedTestdata() {
  const char* dir = std::getenv("CUSTODIA_TESTDATA");
  return dir != nullptr ? dir : "";
}

// `image` (gray) turned clockwise by `quarter_turns` x 90 degrees, by
// Leptonica: independent of the code under test.
inline Image Turn(const Image& image, int quarter_turns) {
  PixPtr pix = ImageToPix(image);
  PixPtr turned(pixRotateOrth(pix.get(), quarter_turns));
  Image out = PixToImage(turned.get());
  out.dpi = image.dpi;
  return out;
}

// `image` (gray) with a (2 * radius + 1)-pixel box blur: a scan out of focus.
inline Image Blur(const Image& image, int radius) {
  PixPtr pix = ImageToPix(image);
  PixPtr blurred(pixBlockconv(pix.get(), radius, radius));
  Image out = PixToImage(blurred.get());
  out.dpi = image.dpi;
  return out;
}

// `image` (gray) thresholded to 0 and 255.
inline Image Binarize(const Image& image) {
  Image out = image;
  for (std::uint8_t& v : out.pixels) v = v < 128 ? 0 : 255;
  return out;
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace custodia::ocr::testutil

#endif  // CUSTODIA_OCR_TEST_UTIL_H_
