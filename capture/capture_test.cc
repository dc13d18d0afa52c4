// capture/capture_test.cc: sniffing, page loading, and bad input that must
// give an error, never a crash or a hang.
#include "capture/capture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

// Under -DCU_SANITIZE=ON: fontconfig, which poppler asks for fonts a PDF
// does not embed, keeps a process-lifetime cache that LeakSanitizer reports.
// It is not ours to free; everything of custodia's is still checked.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT
  return "leak:libfontconfig.so\n";
}

namespace custodia::capture {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes Fixture(const std::string& name) { return ReadFile(fs::path(CU_CAPTURE_TESTDATA) / name); }

Bytes FromString(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Opens `bytes` and reads page `index`, asserting both succeed.
Page ReadOnePage(const Bytes& bytes, int index = 0, const Options& options = {}) {
  auto doc = Document::Open(bytes, options);
  EXPECT_TRUE(doc) << doc.error().message;
  if (!doc) return {};
  auto page = doc->ReadPage(index);
  EXPECT_TRUE(page) << page.error().message;
  if (!page) return {};
  return std::move(page).value();
}

std::uint8_t Pixel(const Image& image, int x, int y, int channel = 0) {
  return image.row(y)[x * image.channels + channel];
}

bool HasDarkPixels(const Image& image) {
  return std::any_of(image.pixels.begin(), image.pixels.end(),
                     [](std::uint8_t v) { return v < 64; });
}

// --- Sniff ----------------------------------------------------------------

struct SniffCase {
  std::string_view bytes;
  std::optional<Format> format;  // nullopt: kUnsupported
  std::string_view message_has;  // for kUnsupported
};

TEST(SniffTest, RecognisesByMagicBytesOnly) {
  using std::string_view_literals::operator""sv;
  const SniffCase cases[] = {
      {"\x89PNG\r\n\x1A\n\0\0\0\rIHDR"sv, Format::kPng, ""},
      {"\xFF\xD8\xFF\xE0\0\x10JFIF"sv, Format::kJpeg, ""},
      {"II*\0\x08\0\0\0"sv, Format::kTiff, ""},
      {"MM\0*\0\0\0\x08"sv, Format::kTiff, ""},
      {"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"sv, Format::kPdf, ""},
      {"junk before the header\r\n%PDF-1.4\n"sv, Format::kPdf, ""},
      {""sv, std::nullopt, "looks like an empty file"},
      {"PK\x03\x04\x14\0\x06\0"sv, std::nullopt, "zip archive (office documents"},
      {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0"sv, std::nullopt, "legacy office document"},
      {"GIF89a\x01\0\x01\0"sv, std::nullopt, "looks like a gif image"},
      {"RIFF\x24\0\0\0WEBPVP8 "sv, std::nullopt, "looks like a webp image"},
      {"BM\x36\x10\0\0\0\0\0\0\x36\0\0\0"sv, std::nullopt, "looks like a bmp image"},
      {"Factura 2024-0042\nTotal: 1.234,56\n"sv, std::nullopt, "looks like plain text"},
      {"II+\0\x08\0\0\0"sv, std::nullopt, "bigtiff"},
      {"\x01\x02\x03\x04\x05\x06\x07\x08\x09"sv, std::nullopt,
       "unrecognised content (starts 01 02 03 04 05 06 07 08)"},
  };
  for (const SniffCase& c : cases) {
    const Bytes bytes = FromString(c.bytes);
    auto format = Sniff(bytes);
    if (c.format) {
      ASSERT_TRUE(format) << c.bytes << ": " << format.error().message;
      EXPECT_EQ(*format, *c.format) << c.bytes;
    } else {
      ASSERT_FALSE(format) << c.bytes;
      EXPECT_EQ(format.error().code, Code::kUnsupported);
      EXPECT_NE(format.error().message.find(c.message_has), std::string::npos)
          << format.error().message;
      EXPECT_NE(format.error().message.find("custodia reads png, jpeg, tiff and pdf"),
                std::string::npos)
          << format.error().message;
    }
  }
}

TEST(SniffTest, PdfHeaderMustLieWithinTheFirstKilobyte) {
  // As in poppler's PDFDoc::checkHeader: all of "%PDF-" in bytes 0..1023.
  EXPECT_TRUE(Sniff(FromString(std::string(1019, ' ') + "%PDF-1.4\n")));
  EXPECT_FALSE(Sniff(FromString(std::string(1020, ' ') + "%PDF-1.4\n")));
}

TEST(SniffTest, FixturesAreSniffedAsTheirFormat) {
  EXPECT_EQ(*Sniff(Fixture("page.png")), Format::kPng);
  EXPECT_EQ(*Sniff(Fixture("page.jpg")), Format::kJpeg);
  EXPECT_EQ(*Sniff(Fixture("three.tif")), Format::kTiff);
  EXPECT_EQ(*Sniff(Fixture("text.pdf")), Format::kPdf);
  EXPECT_STREQ(FormatName(Format::kTiff), "tiff");
}

// --- Images -----------------------------------------------------------------

TEST(ImageTest, ReadsGrayPng) {
  const Bytes bytes = Fixture("page.png");
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->format(), Format::kPng);
  EXPECT_EQ(doc->page_count(), 1);
  auto page = doc->ReadPage(0);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->number, 1);
  EXPECT_FALSE(page->has_text);
  EXPECT_EQ(page->image.width, 200);
  EXPECT_EQ(page->image.height, 100);
  EXPECT_EQ(page->image.channels, 1);
  EXPECT_EQ(page->image.stride, 200);
  EXPECT_EQ(page->image.dpi, 150);
  EXPECT_EQ(page->image.pixels.size(), 200u * 100u);
  EXPECT_EQ(Pixel(page->image, 0, 0), 255);
  EXPECT_TRUE(HasDarkPixels(page->image));
}

TEST(ImageTest, ReadsRgbJpeg) {
  const Page page = ReadOnePage(Fixture("page.jpg"));
  EXPECT_EQ(page.image.width, 240);
  EXPECT_EQ(page.image.height, 120);
  EXPECT_EQ(page.image.channels, 3);
  EXPECT_EQ(page.image.stride, 720);
  EXPECT_EQ(page.image.dpi, 200);
  // Background (250, 250, 240), give or take JPEG.
  EXPECT_NEAR(Pixel(page.image, 2, 2, 0), 250, 6);
  EXPECT_NEAR(Pixel(page.image, 2, 2, 2), 240, 6);
}

TEST(ImageTest, ReadsThreePageTiffPageByPage) {
  const Bytes bytes = Fixture("three.tif");
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->format(), Format::kTiff);
  ASSERT_EQ(doc->page_count(), 3);
  const int widths[] = {100, 120, 140};
  const int channels[] = {1, 1, 3};
  // Out of order on purpose: pages are read by index, not as a stream.
  for (int i : {2, 0, 1}) {
    auto page = doc->ReadPage(i);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page->number, i + 1);
    EXPECT_EQ(page->image.width, widths[i]);
    EXPECT_EQ(page->image.height, widths[i] / 2);
    EXPECT_EQ(page->image.channels, channels[i]);
    EXPECT_EQ(page->image.dpi, 300);
    EXPECT_EQ(Pixel(page->image, 0, 0), 255);
    EXPECT_TRUE(HasDarkPixels(page->image));
  }
  // The 1-bit page becomes 0 (black) and 255 (white), nothing else.
  const Page bilevel = doc->ReadPage(0).value();
  EXPECT_TRUE(std::all_of(bilevel.image.pixels.begin(), bilevel.image.pixels.end(),
                          [](std::uint8_t v) { return v == 0 || v == 255; }));
}

TEST(ImageTest, ColourPaletteBecomesRgb) {
  const Page page = ReadOnePage(Fixture("palette.png"));
  EXPECT_EQ(page.image.channels, 3);
  EXPECT_EQ(page.image.width, 160);
  // Red text on white: some pixel is strongly red.
  bool red = false;
  for (int y = 0; y < page.image.height; ++y) {
    for (int x = 0; x < page.image.width; ++x) {
      red |= Pixel(page.image, x, y, 0) > 150 && Pixel(page.image, x, y, 1) < 80;
    }
  }
  EXPECT_TRUE(red);
}

TEST(ImageTest, SixteenBitGrayKeepsTheHighByte) {
  const Page page = ReadOnePage(Fixture("gray16.png"));
  EXPECT_EQ(page.image.channels, 1);
  EXPECT_EQ(page.image.width, 64);
  EXPECT_EQ(Pixel(page.image, 10, 10), 0x80);
}

TEST(ImageTest, TransparencyIsCompositedOntoWhitePaper) {
  const Page page = ReadOnePage(Fixture("rgba.png"));
  ASSERT_EQ(page.image.channels, 3);
  EXPECT_EQ(Pixel(page.image, 2, 2, 0), 0);      // opaque black square
  EXPECT_EQ(Pixel(page.image, 30, 20, 0), 255);  // transparent: paper
  EXPECT_EQ(Pixel(page.image, 30, 20, 2), 255);
}

TEST(ImageTest, MaxPixelsIsInclusive) {
  const Bytes bytes = Fixture("page.png");  // 200 x 100
  Options options;
  options.max_pixels = 200 * 100;
  EXPECT_TRUE(ReadOnePage(bytes, 0, options).image.width == 200);
  options.max_pixels = 200 * 100 - 1;
  auto doc = Document::Open(bytes, options);
  ASSERT_TRUE(doc);
  auto page = doc->ReadPage(0);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
}

// --- Bad image input ----------------------------------------------------------

std::uint32_t Crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutBigEndian32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

TEST(BadImageTest, PngWhoseHeaderClaims50000x50000IsRefusedBeforeDecoding) {
  // page.png with its IHDR rewritten (and its CRC fixed): the compressed data
  // is still the 200x100 page's, so decoding would fail or allocate 2.5 GB.
  Bytes bytes = Fixture("page.png");
  ASSERT_GE(bytes.size(), 33u);
  PutBigEndian32(&bytes[16], 50000);
  PutBigEndian32(&bytes[20], 50000);
  PutBigEndian32(&bytes[29], Crc32(&bytes[12], 17));  // over "IHDR" + 13 data bytes
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  const auto start = std::chrono::steady_clock::now();
  auto page = doc->ReadPage(0);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
  EXPECT_EQ(page.error().message,
            "capture: page 1: 50000x50000 pixels (2500.0 Mpx) is over the limit of 100.0 Mpx "
            "(Options::max_pixels); refused without decoding");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(BadImageTest, JpegWhoseHeaderClaims60000x60000IsRefusedBeforeDecoding) {
  Bytes bytes = Fixture("page.jpg");
  // Baseline start-of-frame: FF C0, length:2, precision:1, height:2, width:2.
  auto sof = std::search_n(bytes.begin(), bytes.end(), 1, 0xFF);
  while (sof != bytes.end() && (sof + 1 == bytes.end() || sof[1] != 0xC0)) {
    sof = std::find(sof + 1, bytes.end(), 0xFF);
  }
  ASSERT_NE(sof, bytes.end());
  sof[5] = sof[7] = 0xEA;  // 60000 = 0xEA60
  sof[6] = sof[8] = 0x60;
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  auto page = doc->ReadPage(0);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
  EXPECT_NE(page.error().message.find("60000x60000"), std::string::npos);
}

// OpenFile reads a PDF from its file as pages need it, and an image whole:
// the pages are those Open gives on the same bytes. Bad files get Open's
// errors, and a missing one says so.
TEST(OpenFileTest, GivesTheSamePagesAsOpenOnTheBytes) {
  for (const char* name : {"two_pages.pdf", "scan.pdf", "three.tif", "page.png"}) {
    SCOPED_TRACE(name);
    const std::string path = (fs::path(CU_CAPTURE_TESTDATA) / name).string();
    const Bytes bytes = Fixture(name);
    auto from_file = Document::OpenFile(path);
    auto from_bytes = Document::Open(bytes);
    ASSERT_TRUE(from_file) << from_file.error().message;
    ASSERT_TRUE(from_bytes);
    EXPECT_EQ(from_file->format(), from_bytes->format());
    ASSERT_EQ(from_file->page_count(), from_bytes->page_count());
    for (int i = 0; i < from_file->page_count(); ++i) {
      auto a = from_file->ReadPage(i);
      auto b = from_bytes->ReadPage(i);
      ASSERT_TRUE(a && b);
      EXPECT_EQ(a->has_text, b->has_text);
      EXPECT_EQ(a->text, b->text);
      EXPECT_EQ(a->image.width, b->image.width);
      EXPECT_TRUE(a->image.pixels == b->image.pixels);
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("capture_openfile_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream(dir / "empty.pdf");
    std::ofstream(dir / "note.pdf") << "just some text\n";
  }
  auto empty = Document::OpenFile((dir / "empty.pdf").string());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Code::kInvalidArgument);
  auto text = Document::OpenFile((dir / "note.pdf").string());
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().code, Code::kUnsupported);
  auto missing = Document::OpenFile((dir / "missing.pdf").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.pdf"), std::string::npos);
  fs::remove_all(dir);
}

TEST(BadImageTest, EmptyInputIsInvalidArgument) {
  auto doc = Document::Open(Bytes{});
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Code::kInvalidArgument);
  EXPECT_EQ(doc.error().message, "capture: empty file (0 bytes)");
}

TEST(BadImageTest, NotADocumentIsUnsupported) {
  auto doc = Document::Open(FromString("just some text\n"));
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Code::kUnsupported);
}

TEST(BadImageTest, GarbageAfterAValidSignatureIsCorruption) {
  for (std::string_view magic :
       {std::string_view("\x89PNG\r\n\x1A\n", 8), std::string_view("\xFF\xD8\xFF", 3),
        std::string_view("II*\0", 4)}) {
    Bytes bytes = FromString(magic);
    for (int i = 0; i < 200; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 37 + 11));
    auto doc = Document::Open(bytes);
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().code, Code::kCorruption) << doc.error().message;
  }
}

// Opens `bytes` and reads every page; returns the first error, or nullopt.
std::optional<Error> OpenAndReadAll(const Bytes& bytes, const Options& options = {}) {
  auto doc = Document::Open(bytes, options);
  if (!doc) return doc.error();
  for (int i = 0; i < doc->page_count(); ++i) {
    auto page = doc->ReadPage(i);
    if (!page) return page.error();
  }
  return std::nullopt;
}

// Every truncation of a small image, byte by byte, must be refused (the last
// few bytes of PNG's IEND and JPEG's EOI carry no pixels, so a decoder may
// accept those), and never crash.
void ExpectEveryTruncationFails(const std::string& fixture, std::size_t tolerated_tail) {
  const Bytes whole = Fixture(fixture);
  for (std::size_t size = 0; size < whole.size(); ++size) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
    const std::optional<Error> error = OpenAndReadAll(cut);
    if (size + tolerated_tail >= whole.size() && !error) continue;
    ASSERT_TRUE(error.has_value()) << fixture << " cut to " << size << " bytes was accepted";
    const Code code = error->code;
    EXPECT_TRUE(code == Code::kCorruption || code == Code::kUnsupported ||
                code == Code::kInvalidArgument)
        << fixture << " cut to " << size << ": " << error->message;
  }
}

TEST(BadImageTest, TruncatedPngAtEveryOffsetIsAnError) {
  ExpectEveryTruncationFails("page.png", 12);
}

TEST(BadImageTest, TruncatedJpegAtEveryOffsetIsAnError) {
  ExpectEveryTruncationFails("page.jpg", 2);
}

TEST(BadImageTest, TruncatedTiffAtEveryOffsetIsAnErrorOrFewerPages) {
  // A TIFF's directories may sit anywhere; cutting one off may leave a valid
  // shorter file, so only "no crash, error or success" is checked here.
  const Bytes whole = Fixture("three.tif");
  for (std::size_t size = 0; size < whole.size(); size += 7) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size));
    const std::optional<Error> error = OpenAndReadAll(cut);
    if (error) {
      EXPECT_NE(error->code, Code::kInternal) << size << ": " << error->message;
    }
  }
}

TEST(BadImageTest, FlippedBytesNeverCrash) {
  for (const char* fixture : {"page.png", "page.jpg", "three.tif", "text.pdf", "scan.pdf"}) {
    const Bytes whole = Fixture(fixture);
    for (std::size_t i = 0; i < whole.size(); i += 13) {
      Bytes bytes = whole;
      bytes[i] ^= 0x5A;
      const std::optional<Error> error = OpenAndReadAll(bytes);
      if (error) {
        EXPECT_NE(error->code, Code::kInternal) << fixture << "@" << i << ": " << error->message;
      }
    }
  }
}

// --- PDF ----------------------------------------------------------------------

TEST(PdfTest, TextPageUsesItsTextLayer) {
  const Bytes bytes = Fixture("text.pdf");
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->format(), Format::kPdf);
  ASSERT_EQ(doc->page_count(), 1);
  auto page = doc->ReadPage(0);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->has_text);
  EXPECT_EQ(page->text, "Factura número 2024-0042\nTotal a pagar: 1.234,56 EUR");
  EXPECT_TRUE(page->image.empty());
}

// A form's label and value, and a table's row, stay on one line, as
// Tesseract reads a scanned form: the physical layout, spaces collapsed.
// (In reading order the table's columns came out one after the other.)
TEST(PdfTest, TextLayerKeepsTheLinesOfAForm) {
  const char* root = std::getenv("CUSTODIA_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "CUSTODIA_SOURCE_DIR is unset (ctest sets it)";
  const Page page = ReadOnePage(ReadFile(fs::path(root) / "samples" / "01_factura.pdf"));
  ASSERT_TRUE(page.has_text);
  for (const char* line : {"\nDescripción Cant. Precio Importe\n",
                           "\nMenú del día (comida de empresa) 1 15,47 15,47\n",
                           "\nTOTAL FACTURA: 728,86 €\n"}) {
    EXPECT_NE(page.text.find(line), std::string::npos) << line << " in\n" << page.text;
  }
}

TEST(PdfTest, ScannedPageIsRenderedAt300Dpi) {
  // A 4 x 2 inch page holding only an image.
  const Page page = ReadOnePage(Fixture("scan.pdf"));
  EXPECT_FALSE(page.has_text);
  EXPECT_TRUE(page.text.empty());
  EXPECT_EQ(page.image.width, 1200);
  EXPECT_EQ(page.image.height, 600);
  EXPECT_EQ(page.image.channels, 1);
  EXPECT_EQ(page.image.stride, 1200);
  EXPECT_EQ(page.image.dpi, 300);
  EXPECT_EQ(Pixel(page.image, 5, 5), 255);
  EXPECT_TRUE(HasDarkPixels(page.image));
}

TEST(PdfTest, RotatedPageIsRenderedAsDisplayed) {
  // A 2 x 4 inch media box with /Rotate 90 is shown, and rendered, 4 x 2.
  const Page page = ReadOnePage(Fixture("rotated.pdf"));
  EXPECT_FALSE(page.has_text);
  EXPECT_EQ(page.image.width, 1200);
  EXPECT_EQ(page.image.height, 600);
  EXPECT_TRUE(HasDarkPixels(page.image));
}

TEST(PdfTest, RenderDpiIsAnOption) {
  Options options;
  options.render_dpi = 150;
  const Page page = ReadOnePage(Fixture("scan.pdf"), 0, options);
  EXPECT_EQ(page.image.width, 600);
  EXPECT_EQ(page.image.height, 300);
  EXPECT_EQ(page.image.dpi, 150);
}

TEST(PdfTest, ScannedPageOverMaxPixelsIsRefusedBeforeRendering) {
  Options options;
  options.max_pixels = 1200 * 600 - 1;
  const Bytes bytes = Fixture("scan.pdf");
  auto doc = Document::Open(bytes, options);
  ASSERT_TRUE(doc);
  auto page = doc->ReadPage(0);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
  EXPECT_EQ(page.error().message,
            "capture: page 1: rendered at 300 dpi, 1200x600 pixels (0.7 Mpx) is over the limit "
            "of 0.7 Mpx (Options::max_pixels); refused without decoding");
}

TEST(PdfTest, EachPageIsTextOrRenderedOnItsOwn) {
  const Bytes bytes = Fixture("two_pages.pdf");
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_EQ(doc->page_count(), 2);
  auto first = doc->ReadPage(0);
  auto second = doc->ReadPage(1);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->has_text);
  EXPECT_EQ(first->text, "Albarán de entrega número 77");
  EXPECT_FALSE(second->has_text);
  EXPECT_EQ(second->number, 2);
  EXPECT_EQ(second->image.width, 1200);
}

TEST(PdfTest, TooLittleTextMeansTheTextLayerIsNotUsed) {
  Options options;
  options.min_text_chars = 1000;
  const Page page = ReadOnePage(Fixture("text.pdf"), 0, options);
  EXPECT_FALSE(page.has_text);
  EXPECT_EQ(page.image.width, 2479);  // A4 (595 x 842 pt) at 300 dpi
  EXPECT_EQ(page.image.height, 3508);
}

TEST(PdfTest, BadOptionsAreInvalidArgument) {
  Options options;
  options.render_dpi = 0;
  auto doc = Document::Open(Fixture("text.pdf"), options);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Code::kInvalidArgument);
}

// --- $CUSTODIA_TESTDATA/pdf_bad_inputs ---------------------------------------------

// Files that need a user (open) password (see that folder's README.md).
const std::set<std::string>& NeedPassword() {
  static const std::set<std::string> names = {
      "encryption_openpassword.pdf", "libreoffice-writer-password.pdf", "skew-encrypted.pdf"};
  return names;
}

TEST(PdfBadInputsTest, EveryFileOpensAndReadsOrFailsCleanly) {
  const char* testdata = std::getenv("CUSTODIA_TESTDATA");
  if (testdata == nullptr) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (../shared/testdata)";
  const fs::path root = fs::path(testdata) / "pdf_bad_inputs";
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not found";

  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".pdf") files.push_back(entry);
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 100u);

  std::map<Code, int> tally;
  int ok_files = 0;
  int password_files = 0;
  for (const fs::path& file : files) {
    const Bytes bytes = ReadFile(file);
    const auto start = std::chrono::steady_clock::now();
    auto doc = Document::Open(bytes);
    std::string outcome;
    if (!doc) {
      ++tally[doc.error().code];
      outcome = doc.error().message;
      EXPECT_NE(doc.error().code, Code::kInternal) << file << ": " << outcome;
    } else {
      int text_pages = 0, image_pages = 0, failed_pages = 0;
      for (int i = 0; i < doc->page_count(); ++i) {
        auto page = doc->ReadPage(i);
        if (!page) {
          ++failed_pages;
          ++tally[page.error().code];
          EXPECT_NE(page.error().code, Code::kInternal) << file << ": " << page.error().message;
          if (outcome.empty()) outcome = page.error().message;
        } else if (page->has_text) {
          ++text_pages;
        } else {
          ++image_pages;
          EXPECT_FALSE(page->image.empty()) << file;
        }
      }
      if (failed_pages == 0) ++ok_files;
      outcome = std::to_string(doc->page_count()) + " pages: " + std::to_string(text_pages) +
                " text, " + std::to_string(image_pages) + " rendered, " +
                std::to_string(failed_pages) + " failed" +
                (outcome.empty() ? "" : " (" + outcome + ")");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("  %-70s %5.2fs  %s\n", fs::relative(file, root).c_str(), seconds, outcome.c_str());
    EXPECT_LT(seconds, 30) << file << " took too long";

    if (NeedPassword().count(file.filename().string()) > 0) {
      ++password_files;
      EXPECT_FALSE(doc) << file << " needs a password but was opened";
      if (!doc) {
        EXPECT_EQ(doc.error().code, Code::kPermissionDenied) << file;
        EXPECT_EQ(doc.error().message,
                  "capture: encrypted PDF: custodia cannot read password-protected files; "
                  "remove the password and ingest again");
      }
    } else if (!doc) {
      EXPECT_NE(doc.error().code, Code::kPermissionDenied) << file;
    }
  }
  EXPECT_EQ(password_files, static_cast<int>(NeedPassword().size()));
  std::printf("  %d of %zu files read completely; errors:", ok_files, files.size());
  for (const auto& [code, count] : tally) std::printf(" %s=%d", CodeName(code), count);
  std::printf("\n");
}

TEST(PdfBadInputsTest, OwnerPasswordOnlyFilesAreRead) {
  // Encrypted with an empty user password and an owner password that sets
  // permission flags (no copy, no print, no text access): these restrict
  // what a viewer offers its user. custodia archives the file unchanged and
  // needs its text to index it, so they open like any other PDF.
  const char* testdata = std::getenv("CUSTODIA_TESTDATA");
  if (testdata == nullptr) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (../shared/testdata)";
  const fs::path dir = fs::path(testdata) / "pdf_bad_inputs";
  for (const char* name : {"format-corpus_cabinet-of-horrors/encryption_nocopy.pdf",
                           "format-corpus_cabinet-of-horrors/encryption_noprinting.pdf",
                           "format-corpus_cabinet-of-horrors/encryption_notextaccess.pdf",
                           "ocrmypdf/encrypted_algo4.pdf"}) {
    if (!fs::exists(dir / name)) GTEST_SKIP() << dir / name << " not found";
    const Page page = ReadOnePage(ReadFile(dir / name));
    EXPECT_TRUE(page.has_text || !page.image.empty()) << name;
  }
}

TEST(PdfBadInputsTest, LatexFourPagesHaveTheirTextLayer) {
  const char* testdata = std::getenv("CUSTODIA_TESTDATA");
  if (testdata == nullptr) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (../shared/testdata)";
  const fs::path file = fs::path(testdata) /
                        "pdf_bad_inputs/py-pdf_sample-files/004-pdflatex-4-pages/"
                        "pdflatex-4-pages.pdf";
  if (!fs::exists(file)) GTEST_SKIP() << file << " not found";
  const Bytes bytes = ReadFile(file);
  auto doc = Document::Open(bytes);
  ASSERT_TRUE(doc) << doc.error().message;
  ASSERT_EQ(doc->page_count(), 4);  // files.json
  for (int i = 0; i < 4; ++i) {
    auto page = doc->ReadPage(i);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_TRUE(page->has_text) << i;
  }
}

}  // namespace
}  // namespace custodia::capture
