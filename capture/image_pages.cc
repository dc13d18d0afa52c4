// capture/image_pages.cc: PNG, JPEG and (multi-page) TIFF through Leptonica,
// decoded one page at a time straight from the file's bytes.
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "capture/leptonica.h"
#include "capture/page_source.h"

namespace custodia::capture {
namespace {

struct Header {
  int width = 0;
  int height = 0;
};

class ImagePages final : public PageSource {
 public:
  ImagePages(std::span<const std::uint8_t> bytes, Format format, const Options& options,
             int page_count)
      : bytes_(bytes), format_(format), options_(options), page_count_(page_count) {}

  int page_count() const override { return page_count_; }

  Result<Page> ReadPage(int index) override {
    const std::string context = "capture: " + PageContext(index);
    CU_ASSIGN_OR_RETURN(Header header, ReadHeader(index));
    // The header is all a decompression bomb has to be honest about: refuse
    // here, before a decoder allocates width x height.
    if (static_cast<std::int64_t>(header.width) * header.height > options_.max_pixels) {
      return Fail(
          Code::kInvalidArgument,
          context + ": " + OverLimitMessage(header.width, header.height, options_.max_pixels));
    }
    PixPtr pix = Decode(index);
    if (!pix) {
      return Fail(Code::kCorruption, context + ": cannot decode the " + FormatName(format_) +
                                         " data (truncated or damaged file)");
    }
    if (pixGetWidth(pix.get()) != header.width || pixGetHeight(pix.get()) != header.height) {
      return Fail(Code::kCorruption,
                  context + ": decoded size does not match the " + FormatName(format_) + " header");
    }
    Page page;
    auto image = PixToImage(pix.get());
    if (!image) return Wrap(image.error(), context);
    page.image = std::move(image).value();
    return page;
  }

  // kCorruption when the header of page `index` cannot be read.
  Result<Header> ReadHeader(int index) const {
    Header h;
    l_int32 bps = 0, spp = 0, cmap = 0, ycck = 0, cmyk = 0, res = 0, tiff_format = 0;
    l_int32 failed = 1;
    switch (format_) {
      case Format::kPng:
        failed =
            readHeaderMemPng(bytes_.data(), bytes_.size(), &h.width, &h.height, &bps, &spp, &cmap);
        break;
      case Format::kJpeg:
        failed = readHeaderMemJpeg(bytes_.data(), bytes_.size(), &h.width, &h.height, &spp, &ycck,
                                   &cmyk);
        break;
      case Format::kTiff:
        failed = readHeaderMemTiff(bytes_.data(), bytes_.size(), index, &h.width, &h.height, &bps,
                                   &spp, &res, &cmap, &tiff_format);
        break;
      case Format::kPdf:
        break;
    }
    if (failed != 0 || h.width <= 0 || h.height <= 0) {
      return Fail(Code::kCorruption, "capture: " + PageContext(index) + ": cannot read the " +
                                         FormatName(format_) + " header (damaged file)");
    }
    return h;
  }

 private:
  PixPtr Decode(int index) const {
    switch (format_) {
      case Format::kPng:
        return PixPtr(pixReadMemPng(bytes_.data(), bytes_.size()));
      case Format::kJpeg: {
        // hint 0: fail on corrupt data rather than return a partly gray page.
        l_int32 warnings = 0;
        return PixPtr(pixReadMemJpeg(bytes_.data(), bytes_.size(), /*cmflag=*/0,
                                     /*reduction=*/1, &warnings, /*hint=*/0));
      }
      case Format::kTiff:
        // Seeks to directory `index` from the start each time: O(pages)
        // directory reads per page, negligible next to decoding and OCR.
        return PixPtr(pixReadMemTiff(bytes_.data(), bytes_.size(), index));
      case Format::kPdf:
        break;
    }
    return nullptr;
  }

  std::span<const std::uint8_t> bytes_;
  Format format_;
  Options options_;
  int page_count_;
};

// Leptonica counts TIFF directories only from a FILE*; fmemopen gives it
// one over our bytes (read-only mode: the buffer is never written).
l_int32 TiffPageCount(std::span<const std::uint8_t> bytes, l_int32* count) {
  using FilePtr = std::unique_ptr<FILE, int (*)(FILE*)>;
  FilePtr file(fmemopen(const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb"), &fclose);
  if (!file) return 1;
  return tiffGetCount(file.get(), count);
}

}  // namespace

void QuietLeptonica() {
  static std::once_flag once;
  std::call_once(once, [] {
    setMsgSeverity(L_SEVERITY_NONE);
    leptSetStderrHandler([](const char*) {});
  });
}

Result<Image> PixToImage(PIX* pix) {
  // Normalise to 8 bpp gray or 32 bpp RGB; every call returns a new handle
  // (or a clone) that we own.
  PixPtr norm;
  const int depth = pixGetDepth(pix);
  if (PIXCMAP* cmap = pixGetColormap(pix)) {
    l_int32 has_color = 0;
    pixcmapHasColor(cmap, &has_color);
    norm.reset(has_color ? pixConvertTo32(pix) : pixConvertTo8(pix, /*cmapflag=*/0));
  } else if (depth == 32) {
    // A clone when there is no alpha channel.
    norm.reset(pixAlphaBlendUniform(pix, 0xffffff00));
  } else {
    norm.reset(pixConvertTo8(pix, /*cmapflag=*/0));
  }
  if (!norm || (pixGetDepth(norm.get()) != 8 && pixGetDepth(norm.get()) != 32)) {
    return Fail(Code::kInternal,
                "cannot convert a " + std::to_string(depth) + "-bit image to 8-bit gray or rgb");
  }

  PIX* p = norm.get();
  Image image;
  image.width = pixGetWidth(p);
  image.height = pixGetHeight(p);
  image.channels = pixGetDepth(p) == 8 ? 1 : 3;
  image.stride = image.width * image.channels;
  image.dpi = pixGetXRes(p) > 0 ? pixGetXRes(p) : 0;
  image.pixels.resize(static_cast<std::size_t>(image.stride) *
                      static_cast<std::size_t>(image.height));
  const l_uint32* data = pixGetData(p);
  const int wpl = pixGetWpl(p);
  std::uint8_t* out = image.pixels.data();
  for (int y = 0; y < image.height; ++y) {
    const l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * wpl;
    if (image.channels == 1) {
      // Leptonica packs pixels big-end first inside native 32-bit words;
      // GET_DATA_BYTE hides the byte order.
      for (int x = 0; x < image.width; ++x) *out++ = GET_DATA_BYTE(line, x);
    } else {
      for (int x = 0; x < image.width; ++x) {
        const l_uint32 v = line[x];
        *out++ = static_cast<std::uint8_t>(v >> L_RED_SHIFT);
        *out++ = static_cast<std::uint8_t>(v >> L_GREEN_SHIFT);
        *out++ = static_cast<std::uint8_t>(v >> L_BLUE_SHIFT);
      }
    }
  }
  return image;
}

Result<std::unique_ptr<PageSource>> OpenImagePages(std::span<const std::uint8_t> bytes,
                                                   Format format, const Options& options) {
  QuietLeptonica();
  int page_count = 1;
  if (format == Format::kTiff) {
    l_int32 count = 0;
    if (TiffPageCount(bytes, &count) != 0 || count <= 0) {
      return Fail(Code::kCorruption, "capture: cannot read the tiff page directory (damaged file)");
    }
    page_count = count;
  }
  auto pages = std::make_unique<ImagePages>(bytes, format, options, page_count);
  // Fail early, at Open, on a file whose first header is already unreadable.
  CU_TRY(pages->ReadHeader(0));
  return std::unique_ptr<PageSource>(std::move(pages));
}

}  // namespace custodia::capture
