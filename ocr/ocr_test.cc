// ocr/ocr_test.cc: the Tesseract engine on small Spanish pages with known
// text (testdata/, made by make_testdata.py), and page orientation on those
// and on a real scan from the shared test data (CUSTODIA_TESTDATA).
#include "ocr/ocr.h"

#include <gtest/gtest.h>
#include <leptonica/allheaders.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>

#include "ocr/orientation.h"
#include "ocr/test_util.h"

namespace custodia::ocr {
namespace {

namespace fs = std::filesystem;
using testutil::Binarize;
using testutil::Blur;
using testutil::LoadFixture;
using testutil::LoadImage;
using testutil::SecondsSince;
using testutil::SharedTestdata;
using testutil::Turn;

Options Languages(const std::string& languages, const std::string& tessdata_dir = "") {
  Options options;
  options.languages = languages;
  options.tessdata_dir = tessdata_dir;
  return options;
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

// A page read against a deadline (issue 8: a document's time limit must
// stop a page inside OCR, not only between pages): one begun after it is
// not read at all; one whose deadline passes while Tesseract recognises it
// fails as well, not with part of its text; the engine then reads the next
// page whole, and a deadline far away changes nothing.
TEST_F(EngineTest, ReadStopsAtItsDeadline) {
  const Image image = LoadFixture("factura.png");
  ReadOptions options;
  options.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto late = engine_->Read(image, options);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Code::kDeadlineExceeded);
  EXPECT_EQ(late.error().message, "ocr: stopped at the time limit, the page not read");

  // A page of 16 invoices, one under the other: long enough to read that a
  // deadline passes inside Tesseract's recognition, not before it.
  Image tall = image;
  tall.height = image.height * 16;
  tall.pixels.clear();
  for (int k = 0; k < 16; ++k)
    tall.pixels.insert(tall.pixels.end(), image.pixels.begin(), image.pixels.end());
  options.deadline = std::chrono::steady_clock::time_point::max();
  auto start = std::chrono::steady_clock::now();
  auto whole = engine_->Read(tall, options);
  const double whole_seconds = SecondsSince(start);
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_NE(whole->text.find("1.234,56 €"), std::string::npos) << whole->text;

  options.deadline = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int>(whole_seconds * 100));
  start = std::chrono::steady_clock::now();
  auto cut = engine_->Read(tall, options);
  const double cut_seconds = SecondsSince(start);
  std::printf(
      "[ timing ] Read(16 invoices, %dx%d): %.3f s whole; with a deadline of a tenth of "
      "that: %.3f s\n",
      tall.width, tall.height, whole_seconds, cut_seconds);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Code::kDeadlineExceeded);
  // It stopped inside the recognition, well before the end (the layout
  // analysis before it cannot be stopped).
  EXPECT_LT(cut_seconds, whole_seconds * 0.6);

  options.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  auto again = engine_->Read(image, options);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE(again->text.find("1.234,56 €"), std::string::npos) << again->text;
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

// The folder holding the installed spa model, or "" if none is found.
fs::path InstalledTessdata() {
  const char* prefix = std::getenv("TESSDATA_PREFIX");
  for (const fs::path& dir :
       {fs::path(prefix ? prefix : ""), fs::path("/usr/share/tesseract-ocr/5/tessdata"),
        fs::path("/usr/share/tessdata")}) {
    std::error_code ec;
    if (!dir.empty() && fs::exists(dir / "spa.traineddata", ec)) return dir;
  }
  return {};
}

// Copies the installed spa and eng models to a temporary folder, opens an
// Engine on it, then deletes the folder: pages read afterwards prove that
// the models were loaded once, in Open, and are not reloaded per page.
TEST(EngineModelsTest, OneEngineReadsPagesInARowWithoutReloadingModels) {
  const fs::path installed = InstalledTessdata();
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

// ---- Orientation ----------------------------------------------------------

// Channel `c` of `image` as a gray Image.
Image Plane(const Image& image, int c) {
  Image plane;
  plane.width = image.width;
  plane.height = image.height;
  plane.channels = 1;
  plane.stride = image.width;
  plane.dpi = image.dpi;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x)
      plane.pixels.push_back(image.row(y)[x * image.channels + c]);
  }
  return plane;
}

TEST(RotateQuarterTurnsTest, MatchesLeptonicaForEveryTurnAndChannelCount) {
  std::mt19937 rng(42);
  for (int channels : {1, 3, 4}) {
    Image image;
    image.width = 7;
    image.height = 5;
    image.channels = channels;
    image.stride = image.width * channels + 3;  // padded rows are allowed
    image.dpi = 200;
    image.pixels.resize(static_cast<std::size_t>(image.stride) * image.height);
    for (auto& v : image.pixels) v = static_cast<std::uint8_t>(rng());
    for (int turns = -1; turns <= 4; ++turns) {
      const Image turned = RotateQuarterTurns(image, turns);
      const bool sideways = (turns % 2) != 0;
      ASSERT_EQ(turned.width, sideways ? 5 : 7) << turns;
      ASSERT_EQ(turned.height, sideways ? 7 : 5) << turns;
      EXPECT_EQ(turned.channels, channels);
      EXPECT_EQ(turned.stride, turned.width * channels);
      EXPECT_EQ(turned.dpi, 200);
      // Each channel, as a gray plane, against Leptonica's clockwise turn.
      for (int c = 0; c < channels; ++c) {
        const Image plane = Plane(image, c);
        const Image turned_plane = Plane(turned, c);
        EXPECT_EQ(turned_plane.pixels, Turn(plane, ((turns % 4) + 4) % 4).pixels)
            << "turns " << turns << " channel " << c;
      }
    }
  }
}

class OrientationTest : public EngineTest {
 protected:
  // Detects the orientation of `upright` turned by each quarter turn with
  // `engine` and expects the turns that undo it, decided by `method`.
  static void ExpectEveryTurnDetected(Engine& engine, const Image& upright, const char* what,
                                      OrientationMethod method) {
    for (int turns = 0; turns < 4; ++turns) {
      const Image page = Turn(upright, turns);
      auto start = std::chrono::steady_clock::now();
      auto found = engine.DetectOrientation(page);
      const double seconds = SecondsSince(start);
      ASSERT_TRUE(found) << found.error().message;
      std::printf("[ timing ] DetectOrientation(%s turned %d): %.3f s, %d turns, %s, %.1f\n", what,
                  turns * 90, seconds, found->quarter_turns, MethodName(found->method),
                  found->confidence);
      EXPECT_EQ(found->quarter_turns, (4 - turns) % 4) << what << " turned " << turns * 90;
      EXPECT_EQ(found->method, method) << what << " turned " << turns * 90;
      EXPECT_GT(found->confidence, 0);
    }
  }

  static const char* MethodName(OrientationMethod method) {
    switch (method) {
      case OrientationMethod::kOsd:
        return "osd";
      case OrientationMethod::kOcrConfidence:
        return "ocr-confidence";
      case OrientationMethod::kNoText:
        return "no-text";
    }
    return "?";
  }

  // linn.png from the shared test data: a 300-dpi, 1-bit, two-column scan
  // (the PNG does not record its resolution).
  static Image Linn() {
    const std::string dir = SharedTestdata();
    if (dir.empty()) return {};
    Image linn = LoadImage(dir + "/scan_cleanup_degraded/ocrmypdf/linn.png");
    linn.dpi = 300;
    return linn;
  }
};

// Three short lines: too few characters for OSD to be sure (its confidence
// is about 4), so the fallback decides.
TEST_F(OrientationTest, SyntheticInvoiceEveryTurnByOcrConfidence) {
  ExpectEveryTurnDetected(*engine_, LoadFixture("factura.png"), "factura.png",
                          OrientationMethod::kOcrConfidence);
}

TEST_F(OrientationTest, ScannedPageEveryTurnByOsd) {
  const Image linn = Linn();
  if (linn.empty()) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (the shared testdata folder)";
  ExpectEveryTurnDetected(*engine_, linn, "linn.png", OrientationMethod::kOsd);
}

// Prose in two columns is read column by column (forms line by line across
// the page): consecutive lines of the left column follow each other in the
// text, with nothing of the right column between them.
TEST_F(OrientationTest, TwoColumnPageIsReadColumnByColumn) {
  const Image linn = Linn();
  if (linn.empty()) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (the shared testdata folder)";
  auto page = engine_->Read(linn);
  ASSERT_TRUE(page) << page.error().message;
  std::string text;
  for (char c : page->text) {
    if (c == '\n' || c == ' ') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else {
      text += c;
    }
  }
  EXPECT_NE(text.find("then play your MIDI keyboard in time to the"), std::string::npos) << text;
  EXPECT_NE(text.find("may be used at any time to quickly access any location in your sequence"),
            std::string::npos)
      << text;
}

TEST_F(OrientationTest, ScannedPageEveryTurnByOcrConfidenceWhenOsdIsNotTrusted) {
  const Image linn = Linn();
  if (linn.empty()) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (the shared testdata folder)";
  Options options;
  options.osd_min_confidence = 1000;  // OSD never sure enough
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine) << engine.error().message;
  ExpectEveryTurnDetected(*engine, linn, "linn.png (fallback forced)",
                          OrientationMethod::kOcrConfidence);
}

// A 7x7 box blur: OSD's confidence drops below 4 (and at 9x9 it guesses
// wrong), the fallback still reads the right turn best.
TEST_F(OrientationTest, BlurredScanEveryTurnByOcrConfidence) {
  const Image linn = Linn();
  if (linn.empty()) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (the shared testdata folder)";
  ExpectEveryTurnDetected(*engine_, Blur(linn, 3), "linn.png blurred 7x7",
                          OrientationMethod::kOcrConfidence);
}

TEST_F(OrientationTest, BlankPageHasNoText) {
  Image blank;
  blank.width = 2480;
  blank.height = 3508;
  blank.channels = 1;
  blank.stride = blank.width;
  blank.dpi = 300;
  blank.pixels.assign(static_cast<std::size_t>(blank.width) * blank.height, 255);
  auto found = engine_->DetectOrientation(blank);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->quarter_turns, 0);
  EXPECT_EQ(found->method, OrientationMethod::kNoText);
  EXPECT_EQ(found->confidence, 0);
}

TEST_F(OrientationTest, EmptyImageIsInvalidArgument) {
  auto found = engine_->DetectOrientation(Image{});
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, Code::kInvalidArgument);
}

TEST_F(OrientationTest, ReadWithOrientReadsAnUpsideDownPageUpright) {
  const Image upright = LoadFixture("albaran.png");
  const Image upside_down = Turn(upright, 2);
  auto plain = engine_->Read(upside_down);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->text.find("Albarán"), std::string::npos) << plain->text;
  EXPECT_EQ(plain->orientation.method, OrientationMethod::kNoText);  // not asked for

  ReadOptions options;
  options.orient = true;
  auto page = engine_->Read(upside_down, options);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->orientation.quarter_turns, 2);
  EXPECT_NE(page->text.find("Albarán de entrega"), std::string::npos) << page->text;
  // Boxes are of the turned (upright) page.
  for (const Word& w : page->words) {
    EXPECT_LE(w.left + w.width, upright.width);
    EXPECT_LE(w.top + w.height, upright.height);
  }
}

TEST_F(OrientationTest, ReadWithOrientTurnsASidewaysPage) {
  const Image upright = LoadFixture("factura.png");
  ReadOptions options;
  options.orient = true;
  auto page = engine_->Read(Turn(upright, 3), options);  // 270 clockwise: needs 1 more
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->orientation.quarter_turns, 1);
  EXPECT_NE(page->text.find("Número de cliente: 48213"), std::string::npos) << page->text;
}

// Without osd.traineddata (Debian: tesseract-ocr-osd) the fallback does all
// the work instead of failing.
TEST(OrientationModelsTest, WithoutTheOsdModelTheFallbackDecides) {
  const fs::path installed = InstalledTessdata();
  if (installed.empty()) GTEST_SKIP() << "spa.traineddata not found; set TESSDATA_PREFIX";
  const fs::path tmp =
      fs::temp_directory_path() / ("custodia_ocr_osd_test_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  for (const char* model : {"spa.traineddata", "eng.traineddata"}) {
    fs::copy_file(installed / model, tmp / model, fs::copy_options::overwrite_existing);
  }
  auto engine = Engine::Open(Languages("spa+eng", tmp.string()));
  ASSERT_TRUE(engine) << engine.error().message;
  auto found = engine->DetectOrientation(Turn(LoadFixture("albaran.png"), 1));
  fs::remove_all(tmp);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->quarter_turns, 3);
  EXPECT_EQ(found->method, OrientationMethod::kOcrConfidence);
}

TEST(LibraryTest, TestsRunWithOneOpenMpThread) { EXPECT_EQ(LibraryThreadLimit(), 1); }

}  // namespace
}  // namespace custodia::ocr
