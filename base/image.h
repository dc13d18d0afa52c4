// base/image.h: a decoded page image, the one pixel type modules exchange.
#ifndef CUSTODIA_BASE_IMAGE_H_
#define CUSTODIA_BASE_IMAGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace custodia {

// 8 bits per channel, rows top to bottom, `stride` bytes per row.
// channels: 1 (gray), 3 (RGB) or 4 (RGBA).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  int stride = 0;
  int dpi = 0;  // 0 when the source did not say
  std::vector<std::uint8_t> pixels;

  bool empty() const { return width == 0 || height == 0; }
  const std::uint8_t* row(int y) const {
    return pixels.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride);
  }
};

}  // namespace custodia

#endif  // CUSTODIA_BASE_IMAGE_H_
