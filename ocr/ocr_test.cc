// ocr/ocr_test.cc: the Tesseract engine on small Spanish pages with known
// text (testdata/, made by make_testdata.py).
#include "ocr/ocr.h"

#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

namespace custodia::ocr {
namespace {

namespace fs = std::filesystem;

struct PixDeleter {
  void operator()(PIX* pix) const { pixDestroy(&pix); }
};
using PixPtr = std::unique_ptr<PIX, PixDeleter>;

// Loads testdata/`name` as an 8-bit gray Image (or RGB with `rgb`).
Image LoadFixture(const std::string& name, bool rgb = false) {
  const std::string path = std::string(CU_OCR_TESTDATA) + "/" + name;
  PixPtr pix(pixRead(path.c_str()));
  if (!pix) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  PixPtr gray(pixConvertTo8(pix.get(), 0));
  Image image;
  image.width = pixGetWidth(gray.get());
  image.height = pixGetHeight(gray.get());
  image.channels = rgb ? 3 : 1;
  image.stride = image.width * image.channels;
  image.dpi = pixGetXRes(pix.get());
  image.pixels.reserve(static_cast<std::size_t>(image.stride) * image.height);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      l_uint32 v = 0;
      pixGetPixel(gray.get(), x, y, &v);
      for (int c = 0; c < image.channels; ++c) image.pixels.push_back(static_cast<uint8_t>(v));
    }
  }
  return image;
}

Options Languages(const std::string& languages, const std::string& tessdata_dir = "") {
  Options options;
  options.languages = languages;
  options.tessdata_dir = tessdata_dir;
  return options;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto start = std::chrono::steady_clock::now();
    auto engine = Engine::Open();
    ASSERT_TRUE(engine) << engine.error().message;
    std::printf("[ timing ] Engine::Open(spa+eng): %.3f s\n", SecondsSince(start));
    engine_ = new Engine(std::move(engine).value());
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};
Engine* EngineTest::engine_ = nullptr;

TEST_F(EngineTest, ReadsSpanishInvoiceWithAccentsWordBoxesAndConfidences) {
  const Image image = LoadFixture("factura.png");
  ASSERT_FALSE(image.empty());
  EXPECT_EQ(image.dpi, 300);
  auto start = std::chrono::steady_clock::now();
  auto page = engine_->Read(image);
  std::printf("[ timing ] Read(factura.png, %dx%d): %.3f s\n", image.width, image.height,
              SecondsSince(start));
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_NE(page->text.find("Facturación"), std::string::npos) << page->text;
  EXPECT_NE(page->text.find("Número de cliente: 48213"), std::string::npos) << page->text;
  EXPECT_NE(page->text.find("1.234,56 €"), std::string::npos) << page->text;
  EXPECT_EQ(page->text.back(), '\n');
  EXPECT_GT(page->mean_confidence, 70);

  ASSERT_GE(page->words.size(), 10u);
  const Word* factura = nullptr;
  for (const Word& w : page->words) {
    EXPECT_FALSE(w.text.empty());
    EXPECT_GE(w.left, 0);
    EXPECT_GE(w.top, 0);
    EXPECT_GT(w.width, 0);
    EXPECT_GT(w.height, 0);
    EXPECT_LE(w.left + w.width, image.width);
    EXPECT_LE(w.top + w.height, image.height);
    EXPECT_GE(w.confidence, 0);
    EXPECT_LE(w.confidence, 100);
    if (w.text == "Facturación") factura = &w;
  }
  ASSERT_NE(factura, nullptr);
  // The fixture draws the first line at x=60, y=50 in 42-px type.
  EXPECT_NEAR(factura->left, 60, 10);
  EXPECT_NEAR(factura->top, 58, 15);
  EXPECT_NEAR(factura->height, 40, 12);
  EXPECT_GT(factura->confidence, 80);
}

TEST_F(EngineTest, ReadsRgbImages) {
  auto page = engine_->Read(LoadFixture("factura.png", /*rgb=*/true));
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_NE(page->text.find("Facturación"), std::string::npos) << page->text;
}

TEST_F(EngineTest, ImageWithoutDpiIsReadAsThreeHundred) {
  Image image = LoadFixture("albaran.png");
  image.dpi = 0;
  auto page = engine_->Read(image);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_NE(page->text.find("Albarán de entrega"), std::string::npos) << page->text;
}

TEST_F(EngineTest, EmptyImageIsInvalidArgument) {
  auto page = engine_->Read(Image{});
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
  EXPECT_EQ(page.error().message, "ocr: empty image (0x0)");
}

TEST_F(EngineTest, MalformedImageIsInvalidArgument) {
  Image image;
  image.width = 100;
  image.height = 100;
  image.channels = 1;
  image.stride = 100;
  image.pixels.resize(100 * 99);  // one row short
  auto page = engine_->Read(image);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
}

TEST_F(EngineTest, ImageWiderThanTesseractAcceptsIsInvalidArgument) {
  Image image;
  image.width = 100000;
  image.height = 1;
  image.channels = 1;
  image.stride = image.width;
  image.pixels.assign(image.width, 255);
  auto page = engine_->Read(image);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kInvalidArgument);
  EXPECT_NE(page.error().message.find("too large"), std::string::npos);
}

TEST_F(EngineTest, BlankAndTinyPagesGiveNoWordsNotAnError) {
  Image blank;
  blank.width = 600;
  blank.height = 400;
  blank.channels = 1;
  blank.stride = 600;
  blank.pixels.assign(600 * 400, 255);
  auto page = engine_->Read(blank);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->words.empty());

  Image dot = blank;
  dot.width = dot.height = dot.stride = 1;
  dot.pixels.assign(1, 0);
  page = engine_->Read(dot);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->words.empty());
}

// Copies the installed spa and eng models to a temporary folder, opens an
// Engine on it, then deletes the folder: pages read afterwards prove that
// the models were loaded once, in Open, and are not reloaded per page.
TEST(EngineModelsTest, OneEngineReadsPagesInARowWithoutReloadingModels) {
  fs::path installed;
  const char* prefix = std::getenv("TESSDATA_PREFIX");
  for (const fs::path& dir :
       {fs::path(prefix ? prefix : ""), fs::path("/usr/share/tesseract-ocr/5/tessdata"),
        fs::path("/usr/share/tessdata")}) {
    std::error_code ec;
    if (!dir.empty() && fs::exists(dir / "spa.traineddata", ec)) {
      installed = dir;
      break;
    }
  }
  if (installed.empty()) GTEST_SKIP() << "spa.traineddata not found; set TESSDATA_PREFIX";

  const fs::path tmp =
      fs::temp_directory_path() / ("custodia_ocr_test_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const char* model : {"spa.traineddata", "eng.traineddata"}) {
    fs::copy_file(installed / model, tmp / model, fs::copy_options::overwrite_existing);
  }
  auto engine = Engine::Open(Languages("spa+eng", tmp.string()));
  fs::remove_all(tmp);
  ASSERT_TRUE(engine) << engine.error().message;

  const Image factura = LoadFixture("factura.png");
  const Image albaran = LoadFixture("albaran.png");
  auto first = engine->Read(factura);
  auto second = engine->Read(albaran);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->text.find("Número"), std::string::npos) << first->text;
  EXPECT_NE(second->text.find("Dirección: Calle Mayor 7, Logroño"), std::string::npos)
      << second->text;
  // Nothing of the first page leaks into the second.
  EXPECT_EQ(second->text.find("Número"), std::string::npos) << second->text;

  // And a moved Engine keeps its models.
  Engine moved = std::move(engine).value();
  auto third = moved.Read(factura);
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->text, first->text);
}

TEST(EngineOpenTest, MissingLanguageIsUnavailableNamingThePackage) {
  auto engine = Engine::Open(Languages("xyz"));
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, Code::kUnavailable);
  EXPECT_NE(engine.error().message.find("'xyz'"), std::string::npos) << engine.error().message;
  EXPECT_NE(engine.error().message.find("tesseract-ocr-xyz"), std::string::npos)
      << engine.error().message;
}

TEST(EngineOpenTest, MissingSecondLanguageIsUnavailableToo) {
  auto engine = Engine::Open(Languages("spa+xyz"));
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, Code::kUnavailable);
  EXPECT_NE(engine.error().message.find("'xyz'"), std::string::npos) << engine.error().message;
}

TEST(EngineOpenTest, MissingTessdataDirIsUnavailable) {
  auto engine = Engine::Open(Languages("spa", "/nonexistent/tessdata"));
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error().code, Code::kUnavailable);
  EXPECT_NE(engine.error().message.find("tesseract-ocr-spa"), std::string::npos);
}

TEST(EngineOpenTest, MalformedLanguageListIsInvalidArgument) {
  for (const char* languages : {"", "spa+", "../spa", "spa eng"}) {
    auto engine = Engine::Open(Languages(languages));
    ASSERT_FALSE(engine) << languages;
    EXPECT_EQ(engine.error().code, Code::kInvalidArgument) << languages;
  }
}

}  // namespace
}  // namespace custodia::ocr
