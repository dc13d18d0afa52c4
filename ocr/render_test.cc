// ocr/render_test.cc: hOCR and searchable PDF output of the engine, checked
// with independent readers: libxml2 for the hOCR, poppler and qpdf for the
// PDFs.
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <poppler-document.h>
#include <poppler-page.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/Pl_Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <regex>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "ocr/ocr.h"
#include "ocr/test_util.h"

namespace custodia::ocr {
namespace {

namespace fs = std::filesystem;
using testutil::Binarize;
using testutil::LoadFixture;
using testutil::LoadImage;
using testutil::SecondsSince;
using testutil::SharedTestdata;

using Bytes = std::vector<std::uint8_t>;

class RenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto engine = Engine::Open();
    ASSERT_TRUE(engine) << engine.error().message;
    engine_ = new Engine(std::move(engine).value());
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }

  // A fresh, empty folder for this test's temporary files.
  void SetUp() override {
    temp_dir_ = fs::temp_directory_path() /
                ("custodia_render_test_" + std::to_string(::getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(temp_dir_);
    fs::create_directories(temp_dir_);
  }
  void TearDown() override { fs::remove_all(temp_dir_); }

  ReadOptions Pdf() const {
    ReadOptions options;
    options.pdf = true;
    options.temp_dir = temp_dir_.string();
    return options;
  }

  static Engine* engine_;
  fs::path temp_dir_;
};
Engine* RenderTest::engine_ = nullptr;

// ---- hOCR -----------------------------------------------------------------

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct XPathContextDeleter {
  void operator()(xmlXPathContext* ctx) const { xmlXPathFreeContext(ctx); }
};
struct XPathObjectDeleter {
  void operator()(xmlXPathObject* obj) const { xmlXPathFreeObject(obj); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// Parses `xml` strictly (no network, no DTD loading); nullptr and a test
// failure naming libxml2's error if it is not well formed.
XmlDoc ParseXml(const std::string& xml) {
  XmlDoc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "hocr.xhtml", "UTF-8",
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* error = xmlGetLastError();
    ADD_FAILURE() << "not well-formed XML: " << (error && error->message ? error->message : "?")
                  << " at line " << (error ? error->line : 0);
  }
  return doc;
}

std::string Attribute(xmlNode* node, const char* name) {
  std::unique_ptr<xmlChar, decltype(xmlFree)> value(
      xmlGetProp(node, reinterpret_cast<const xmlChar*>(name)), xmlFree);
  return value ? reinterpret_cast<const char*>(value.get()) : "";
}

std::string Content(xmlNode* node) {
  std::unique_ptr<xmlChar, decltype(xmlFree)> value(xmlNodeGetContent(node), xmlFree);
  return value ? reinterpret_cast<const char*>(value.get()) : "";
}

// The XHTML elements of `doc` matching `xpath` (prefix h: for XHTML).
std::vector<xmlNode*> Select(xmlDoc* doc, const char* xpath) {
  std::unique_ptr<xmlXPathContext, XPathContextDeleter> ctx(xmlXPathNewContext(doc));
  xmlXPathRegisterNs(ctx.get(), reinterpret_cast<const xmlChar*>("h"),
                     reinterpret_cast<const xmlChar*>("http://www.w3.org/1999/xhtml"));
  std::unique_ptr<xmlXPathObject, XPathObjectDeleter> found(
      xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath), ctx.get()));
  std::vector<xmlNode*> out;
  if (found && found->nodesetval) {
    for (int i = 0; i < found->nodesetval->nodeNr; ++i)
      out.push_back(found->nodesetval->nodeTab[i]);
  }
  return out;
}

TEST_F(RenderTest, PlainReadMakesNoHocrAndNoPdf) {
  auto page = engine_->Read(LoadFixture("factura.png"));
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->hocr.empty());
  EXPECT_TRUE(page->pdf.empty());
}

// Two pages read as pages 0 and 1 (as two workers would), joined: one
// well-formed XHTML document whose words carry boxes inside their page and
// confidences, with ids unique across pages.
TEST_F(RenderTest, MergedHocrIsWellFormedWithWordBoxesAndConfidences) {
  const Image factura = LoadFixture("factura.png");
  const Image albaran = LoadFixture("albaran.png");
  ReadOptions options;
  options.hocr = true;
  options.page_number = 0;
  auto first = engine_->Read(factura, options);
  options.page_number = 1;
  auto second = engine_->Read(albaran, options);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->hocr.find("class='ocr_page'"), std::string::npos) << first->hocr;

  const std::vector<std::string> pages = {first->hocr, second->hocr};
  const std::string hocr = MergeHocr(pages, "Factura <2024> & albarán");
  XmlDoc doc = ParseXml(hocr);
  ASSERT_TRUE(doc) << hocr;
  EXPECT_STREQ(reinterpret_cast<const char*>(xmlDocGetRootElement(doc.get())->name), "html");

  auto titles = Select(doc.get(), "/h:html/h:head/h:title");
  ASSERT_EQ(titles.size(), 1u);
  EXPECT_EQ(Content(titles[0]), "Factura <2024> & albarán");
  auto system = Select(doc.get(), "//h:meta[@name='ocr-system']");
  ASSERT_EQ(system.size(), 1u);
  EXPECT_EQ(Attribute(system[0], "content").rfind("tesseract 5.", 0), 0u);

  auto ocr_pages = Select(doc.get(), "/h:html/h:body/h:div[@class='ocr_page']");
  ASSERT_EQ(ocr_pages.size(), 2u);
  EXPECT_EQ(Attribute(ocr_pages[0], "id"), "page_1");
  EXPECT_EQ(Attribute(ocr_pages[1], "id"), "page_2");
  EXPECT_NE(Attribute(ocr_pages[0], "title").find("bbox 0 0 1240 330"), std::string::npos)
      << Attribute(ocr_pages[0], "title");

  const std::regex word_title(R"(bbox (\d+) (\d+) (\d+) (\d+); x_wconf (\d+))");
  std::set<std::string> ids;
  for (std::size_t p = 0; p < ocr_pages.size(); ++p) {
    const Image& image = p == 0 ? factura : albaran;
    const Page& read = p == 0 ? *first : *second;
    const std::string xpath = "/h:html/h:body/h:div[@id='page_" + std::to_string(p + 1) +
                              "']//h:span[@class='ocrx_word']";
    auto words = Select(doc.get(), xpath.c_str());
    // The same words as Page::words, in the same order.
    ASSERT_EQ(words.size(), read.words.size()) << "page " << p;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string title = Attribute(words[i], "title");
      std::smatch m;
      ASSERT_TRUE(std::regex_match(title, m, word_title)) << title;
      const int x0 = std::stoi(m[1]), y0 = std::stoi(m[2]), x1 = std::stoi(m[3]),
                y1 = std::stoi(m[4]), conf = std::stoi(m[5]);
      EXPECT_LT(x0, x1);
      EXPECT_LT(y0, y1);
      EXPECT_LE(x1, image.width);
      EXPECT_LE(y1, image.height);
      EXPECT_GE(conf, 0);
      EXPECT_LE(conf, 100);
      EXPECT_EQ(Content(words[i]), read.words[i].text);
      EXPECT_EQ(x0, read.words[i].left);
      EXPECT_EQ(y0, read.words[i].top);
      EXPECT_TRUE(ids.insert(Attribute(words[i], "id")).second) << Attribute(words[i], "id");
    }
  }
  auto facturacion = Select(doc.get(), "//h:span[@class='ocrx_word'][text()='Facturación']");
  ASSERT_EQ(facturacion.size(), 1u);
  auto albaran_word = Select(doc.get(), "//h:span[@class='ocrx_word'][text()='Albarán']");
  ASSERT_EQ(albaran_word.size(), 1u);
}

TEST_F(RenderTest, MergedHocrOfNoPagesIsStillWellFormed) {
  XmlDoc doc = ParseXml(MergeHocr({}));
  ASSERT_TRUE(doc);
  EXPECT_TRUE(Select(doc.get(), "//h:div[@class='ocr_page']").empty());
}

// Found by ocr_hocr_fuzz (issue 8): the title is the name of the file a
// station dropped, and a file name may hold control characters and bytes
// that are not UTF-8, which XML cannot carry even escaped. They become
// U+FFFD (one for each maximal ill-formed part, as Unicode recommends);
// a carriage return is kept as a reference ("\r" would be read as
// "\n"); everything else comes back as it was.
TEST_F(RenderTest, MergedHocrIsWellFormedWhateverTheTitleHolds) {
  const std::string title =
      std::string("lote\x06 \x01\x1f\x7f|\xff\xfe|\xc3(|\xe2\x82|\xed\xa0\x80|\xc0\xaf|") +
      "\xef\xbf\xbe|\r\n\t|a\xcc\x81 \xf0\x9f\x93\x84 <&>\"'.pdf";
  XmlDoc doc = ParseXml(MergeHocr({}, title));
  ASSERT_TRUE(doc);
  auto titles = Select(doc.get(), "/h:html/h:head/h:title");
  ASSERT_EQ(titles.size(), 1u);
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(Content(titles[0]), "lote" + r + " " + r + r + "\x7f|" + r + r + "|" + r + "(|" + r + "|" +
                                    r + r + r + "|" + r + r + "|" + r +
                                    "|\r\n\t|a\xcc\x81 \xf0\x9f\x93\x84 <&>\"'.pdf");
}

// ---- PDF ------------------------------------------------------------------

struct PdfPageFacts {
  double width_pt = 0, height_pt = 0;  // poppler
  std::string text;                    // poppler
  int images = 0;                      // qpdf: image XObjects on the page
  long image_width = 0, image_height = 0, bits_per_component = 0;
  std::string filter;
  bool invisible_text = false;  // qpdf: the content stream sets text render mode 3
};

// Reads `pdf` with poppler (page sizes, text) and with qpdf (structure);
// fails the test if either cannot open it.
std::vector<PdfPageFacts> ReadPdf(const Bytes& pdf) {
  std::vector<PdfPageFacts> out;
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(pdf.data()), static_cast<int>(pdf.size())));
  if (!doc) {
    ADD_FAILURE() << "poppler cannot open the PDF";
    return out;
  }
  for (int i = 0; i < doc->pages(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    PdfPageFacts facts;
    facts.width_pt = page->page_rect().width();
    facts.height_pt = page->page_rect().height();
    const poppler::byte_array utf8 = page->text().to_utf8();
    facts.text.assign(utf8.begin(), utf8.end());
    out.push_back(facts);
  }
  QPDF qpdf;
  qpdf.processMemoryFile("pdf", reinterpret_cast<const char*>(pdf.data()), pdf.size());
  auto pages = QPDFPageDocumentHelper(qpdf).getAllPages();
  EXPECT_EQ(pages.size(), out.size()) << "qpdf and poppler disagree on the page count";
  for (std::size_t i = 0; i < pages.size() && i < out.size(); ++i) {
    auto images = pages[i].getImages();
    out[i].images = static_cast<int>(images.size());
    if (!images.empty()) {
      QPDFObjectHandle dict = images.begin()->second.getDict();
      out[i].image_width = dict.getKey("/Width").getIntValue();
      out[i].image_height = dict.getKey("/Height").getIntValue();
      out[i].bits_per_component = dict.getKey("/BitsPerComponent").getIntValue();
      out[i].filter = dict.getKey("/Filter").isName() ? dict.getKey("/Filter").getName() : "";
    }
    Pl_Buffer contents("contents");
    pages[i].pipeContents(&contents);
    const std::unique_ptr<Buffer> buffer(contents.getBuffer());
    const std::string stream(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
    out[i].invisible_text = stream.find("3 Tr") != std::string::npos;
  }
  return out;
}

// Three pages, each rendered alone (as three workers would), joined in
// memory: poppler and qpdf both see three pages of the images' size in
// points, each with its picture and an invisible text layer holding the
// recognised words, in order.
TEST_F(RenderTest, MergedPdfHasEveryPageWithItsImageAndSearchableText) {
  const Image factura = LoadFixture("factura.png");
  const Image albaran = LoadFixture("albaran.png");
  const std::vector<const Image*> images = {&factura, &albaran, &factura};
  std::vector<Bytes> pdfs;
  for (std::size_t i = 0; i < images.size(); ++i) {
    ReadOptions options = Pdf();
    options.page_number = static_cast<int>(i);
    auto page = engine_->Read(*images[i], options);
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_GT(page->pdf.size(), 100u);
    EXPECT_EQ(std::string(page->pdf.begin(), page->pdf.begin() + 5), "%PDF-");
    pdfs.push_back(page->pdf);
  }
  auto merged = MergePdfs(pdfs);
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(std::string(merged->begin(), merged->begin() + 5), "%PDF-");

  const std::vector<PdfPageFacts> pages = ReadPdf(*merged);
  ASSERT_EQ(pages.size(), 3u);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    SCOPED_TRACE("page " + std::to_string(i + 1));
    const Image& image = *images[i];
    // 300 dpi: a pixel is 72/300 points.
    EXPECT_NEAR(pages[i].width_pt, image.width * 72.0 / 300, 0.01);
    EXPECT_NEAR(pages[i].height_pt, image.height * 72.0 / 300, 0.01);
    EXPECT_EQ(pages[i].images, 1);
    EXPECT_EQ(pages[i].image_width, image.width);
    EXPECT_EQ(pages[i].image_height, image.height);
    EXPECT_TRUE(pages[i].invisible_text);
  }
  EXPECT_NE(pages[0].text.find("Facturación"), std::string::npos) << pages[0].text;
  EXPECT_NE(pages[0].text.find("48213"), std::string::npos) << pages[0].text;
  EXPECT_NE(pages[0].text.find("1.234,56"), std::string::npos) << pages[0].text;
  EXPECT_NE(pages[1].text.find("Albarán de entrega"), std::string::npos) << pages[1].text;
  EXPECT_NE(pages[1].text.find("Logroño"), std::string::npos) << pages[1].text;
  EXPECT_EQ(pages[1].text.find("Facturación"), std::string::npos) << pages[1].text;
  EXPECT_NE(pages[2].text.find("Facturación"), std::string::npos) << pages[2].text;
}

// The invisible words sit over the picture's words: poppler's box for
// "Facturación" is the engine's word box scaled to points.
TEST_F(RenderTest, PdfTextLayerLinesUpWithTheWordBoxes) {
  auto page = engine_->Read(LoadFixture("factura.png"), Pdf());
  ASSERT_TRUE(page) << page.error().message;
  const Word* word = nullptr;
  for (const Word& w : page->words) {
    if (w.text == "Facturación") word = &w;
  }
  ASSERT_NE(word, nullptr);
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(page->pdf.data()), static_cast<int>(page->pdf.size())));
  ASSERT_TRUE(doc);
  std::unique_ptr<poppler::page> pdf_page(doc->create_page(0));
  bool found = false;
  for (const poppler::text_box& box : pdf_page->text_list()) {
    const poppler::byte_array utf8 = box.text().to_utf8();
    if (std::string(utf8.begin(), utf8.end()) != "Facturación") continue;
    found = true;
    const double pt = 72.0 / 300;
    EXPECT_NEAR(box.bbox().left(), word->left * pt, 2);
    EXPECT_NEAR(box.bbox().top(), word->top * pt, 4);
    // Tesseract stretches its glyphless font over the word; poppler
    // measures it about 8% short.
    EXPECT_NEAR(box.bbox().width(), word->width * pt, 0.15 * word->width * pt);
  }
  EXPECT_TRUE(found);
}

// The page recognised is the binarized one; the picture shown is the gray
// page given as pdf_image. Without pdf_image, the binarized page itself is
// stored as 1-bit CCITT G4.
TEST_F(RenderTest, PdfShowsPdfImageWhileTheBinarizedPageIsRecognised) {
  const Image gray = LoadFixture("factura.png");
  const Image binary = Binarize(gray);

  auto alone = engine_->Read(binary, Pdf());
  ASSERT_TRUE(alone) << alone.error().message;
  auto facts = ReadPdf(alone->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].bits_per_component, 1);
  EXPECT_EQ(facts[0].filter, "/CCITTFaxDecode");
  EXPECT_NE(facts[0].text.find("Facturación"), std::string::npos) << facts[0].text;

  ReadOptions options = Pdf();
  options.pdf_image = &gray;
  auto shown = engine_->Read(binary, options);
  ASSERT_TRUE(shown) << shown.error().message;
  facts = ReadPdf(shown->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].bits_per_component, 8);
  EXPECT_EQ(facts[0].image_width, gray.width);
  EXPECT_NE(facts[0].text.find("Facturación"), std::string::npos) << facts[0].text;
  // The recognition is that of the binarized page either way.
  EXPECT_EQ(shown->text, alone->text);

  // A colour picture works too.
  const Image colour = LoadFixture("factura.png", /*rgb=*/true);
  options.pdf_image = &colour;
  auto coloured = engine_->Read(binary, options);
  ASSERT_TRUE(coloured) << coloured.error().message;
  facts = ReadPdf(coloured->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].images, 1);
  EXPECT_NE(facts[0].text.find("Facturación"), std::string::npos) << facts[0].text;
}

// With `orient`, the picture is turned with the page, so the text layer
// still lies over it.
TEST_F(RenderTest, PdfOfAnOrientedPageIsUpright) {
  const Image upright = LoadFixture("albaran.png");
  ReadOptions options = Pdf();
  options.orient = true;
  auto page = engine_->Read(testutil::Turn(upright, 1), options);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->orientation.quarter_turns, 3);
  auto facts = ReadPdf(page->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].image_width, upright.width);
  EXPECT_EQ(facts[0].image_height, upright.height);
  EXPECT_NE(facts[0].text.find("Albarán de entrega"), std::string::npos) << facts[0].text;
}

// A blank page still makes a page: its picture and no text.
TEST_F(RenderTest, BlankPageMakesAPdfPageWithoutText) {
  Image blank;
  blank.width = 600;
  blank.height = 400;
  blank.channels = 1;
  blank.stride = 600;
  blank.dpi = 150;
  blank.pixels.assign(600 * 400, 255);
  ReadOptions options = Pdf();
  options.hocr = true;
  auto page = engine_->Read(blank, options);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(page->words.empty());
  auto facts = ReadPdf(page->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_NEAR(facts[0].width_pt, 600 * 72.0 / 150, 0.01);
  EXPECT_EQ(facts[0].images, 1);
  EXPECT_EQ(facts[0].text.find_first_not_of(" \n\f"), std::string::npos) << facts[0].text;
  XmlDoc doc = ParseXml(MergeHocr({&page->hocr, 1}));
  ASSERT_TRUE(doc);
  EXPECT_EQ(Select(doc.get(), "//h:div[@class='ocr_page']").size(), 1u);
  EXPECT_TRUE(Select(doc.get(), "//h:span[@class='ocrx_word']").empty());
}

TEST_F(RenderTest, PdfImageOfAnotherSizeIsInvalidArgument) {
  const Image page = LoadFixture("factura.png");
  const Image other = LoadFixture("albaran.png");
  ReadOptions options = Pdf();
  options.pdf_image = &other;
  auto read = engine_->Read(page, options);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Code::kInvalidArgument);
  EXPECT_NE(read.error().message.find("same size"), std::string::npos) << read.error().message;
  const Image empty;
  options.pdf_image = &empty;
  read = engine_->Read(page, options);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, Code::kInvalidArgument);
  EXPECT_EQ(read.error().message, "ocr: pdf_image: empty image (0x0)");
}

TEST_F(RenderTest, PdfTemporaryFileIsRemoved) {
  auto page = engine_->Read(LoadFixture("factura.png"), Pdf());
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_TRUE(fs::is_empty(temp_dir_)) << "left behind in " << temp_dir_;
}

TEST_F(RenderTest, UnwritableTempDirIsIo) {
  ReadOptions options = Pdf();
  options.temp_dir = (temp_dir_ / "missing").string();
  auto page = engine_->Read(LoadFixture("factura.png"), options);
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, Code::kIo);
  EXPECT_NE(page.error().message.find("missing"), std::string::npos) << page.error().message;
}

TEST(MergePdfsTest, NoInputIsInvalidArgument) {
  auto merged = MergePdfs({});
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, Code::kInvalidArgument);
}

TEST_F(RenderTest, MergePdfsRejectsGarbageNamingWhichInput) {
  auto page = engine_->Read(LoadFixture("factura.png"), Pdf());
  ASSERT_TRUE(page) << page.error().message;
  const std::string junk = "this is not a PDF";
  const std::vector<Bytes> pdfs = {page->pdf, Bytes(junk.begin(), junk.end())};
  auto merged = MergePdfs(pdfs);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, Code::kCorruption);
  EXPECT_NE(merged.error().message.find("pdf 1"), std::string::npos) << merged.error().message;
}

TEST_F(RenderTest, MergeIsDeterministic) {
  auto page = engine_->Read(LoadFixture("albaran.png"), Pdf());
  ASSERT_TRUE(page) << page.error().message;
  const std::vector<Bytes> pdfs = {page->pdf, page->pdf};
  auto a = MergePdfs(pdfs);
  auto b = MergePdfs(pdfs);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(ReadPdf(*a).size(), 2u);
}

// What hOCR and the PDF add to the reading of a full 300-dpi page, and that
// the real scan's text layer is searchable.
TEST_F(RenderTest, CostOfHocrAndPdfOnAScannedPage) {
  const std::string dir = SharedTestdata();
  if (dir.empty()) GTEST_SKIP() << "CUSTODIA_TESTDATA is not set (the shared testdata folder)";
  const Image linn = LoadImage(dir + "/scan_cleanup_degraded/ocrmypdf/linn.png");
  ASSERT_FALSE(linn.empty());

  auto start = std::chrono::steady_clock::now();
  auto plain = engine_->Read(linn);
  const double plain_s = SecondsSince(start);
  ASSERT_TRUE(plain) << plain.error().message;

  ReadOptions hocr;
  hocr.hocr = true;
  start = std::chrono::steady_clock::now();
  auto with_hocr = engine_->Read(linn, hocr);
  const double hocr_s = SecondsSince(start);
  ASSERT_TRUE(with_hocr) << with_hocr.error().message;

  start = std::chrono::steady_clock::now();
  auto with_pdf = engine_->Read(linn, Pdf());
  const double pdf_s = SecondsSince(start);
  ASSERT_TRUE(with_pdf) << with_pdf.error().message;

  std::printf(
      "[ timing ] Read(linn.png %dx%d): %.3f s; with hOCR %.3f s (%zu bytes); "
      "with PDF %.3f s (%zu bytes)\n",
      linn.width, linn.height, plain_s, hocr_s, with_hocr->hocr.size(), pdf_s,
      with_pdf->pdf.size());
  EXPECT_EQ(with_hocr->text, plain->text);
  EXPECT_EQ(with_pdf->text, plain->text);
  ASSERT_TRUE(ParseXml(MergeHocr({&with_hocr->hocr, 1})));
  auto facts = ReadPdf(with_pdf->pdf);
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].bits_per_component, 1);  // the 1-bit scan stays 1-bit (G4)
  for (const char* words : {"LinnSequencer", "MIDI", "polyphonic", "synthesizers"}) {
    EXPECT_NE(facts[0].text.find(words), std::string::npos) << words;
  }
}

}  // namespace
}  // namespace custodia::ocr
