// ocr/tesseract_engine.cc: ocr::Engine over one tesseract::TessBaseAPI,
// whose language models are loaded once, in Open, and kept for every page;
// the optional outputs (orientation, hOCR, PDF) are asked for per call.
#include <leptonica/allheaders.h>
#include <omp.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocr/leptonica.h"
#include "ocr/ocr.h"
#include "ocr/orientation.h"
#include "ocr/pdf.h"

namespace custodia::ocr {
namespace {

// Speckles that survive cleanup inside text lines come back from Tesseract
// as "words" of punctuation alone ("|", ".", "'", "©") at low confidence.
// A word without a letter or digit is left out of the text when Tesseract
// is less sure of it than kNoiseConfidence; it stays in Page::words, the
// hOCR and the PDF's text layer, which keep what Tesseract saw.
// Tuned on the tuning set (samples/generate.py --profile eval --seed 7):
// pooled CER 2.41% keeping every word, 1.97% below 60, 1.68% below 80,
// 1.52% below 90, 1.78% below 96 (real "-", "/" and "%" go too).
constexpr float kNoiseConfidence = 90;

// Whether `word` (UTF-8) holds a letter or a digit: any ASCII letter or
// digit, or any non-ASCII character other than the typographic marks OCR
// makes of specks (the Latin-1 and General Punctuation symbols).
bool HasLetterOrDigit(std::string_view word) {
  for (std::size_t i = 0; i < word.size();) {
    const unsigned char c = static_cast<unsigned char>(word[i]);
    if (c < 0x80) {
      if (std::isalnum(c)) return true;
      ++i;
      continue;
    }
    // Decode one code point (Tesseract's output is valid UTF-8).
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    std::uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len && i + k < word.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(word[i + k]) & 0x3F);
    }
    i += static_cast<std::size_t>(len);
    const bool latin1_symbol = cp >= 0xA0 && cp <= 0xBF && cp != 0xAA && cp != 0xBA;  // keep ª º
    const bool punctuation = cp >= 0x2000 && cp <= 0x206F;
    if (!latin1_symbol && !punctuation && cp != 0xD7 && cp != 0xF7) return true;
  }
  return false;
}

// Whether `page` is prose in two or more columns: in Tesseract's own
// layout analysis (PSM_AUTO), flowing-text blocks wider than a quarter of
// the page stand side by side over at least kMinColumnsPercent of the
// page's height. A form's or table's columns are narrow, and the sender and
// addressee blocks of an invoice are a few lines. Leaves the page
// segmentation mode as it found it, and the half-size page set in `api`:
// set the page itself before recognising.
constexpr int kMinColumnsPercent = 15;

// The page at half its size, each pixel the darkest of the four it
// replaces, so thin strokes survive. Layout analysis there costs a quarter.
Image HalfSize(const Image& image) {
  Image out;
  out.width = std::max(1, image.width / 2);
  out.height = std::max(1, image.height / 2);
  out.channels = image.channels;
  out.stride = out.width * out.channels;
  out.dpi = image.dpi / 2;
  out.pixels.resize(static_cast<std::size_t>(out.stride) * static_cast<std::size_t>(out.height));
  const int ch = image.channels;
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* a = image.row(std::min(2 * y, image.height - 1));
    const std::uint8_t* b = image.row(std::min(2 * y + 1, image.height - 1));
    std::uint8_t* dst = out.pixels.data() + static_cast<std::ptrdiff_t>(y) * out.stride;
    for (int x = 0; x < out.width; ++x) {
      const int x0 = std::min(2 * x, image.width - 1) * ch;
      const int x1 = std::min(2 * x + 1, image.width - 1) * ch;
      for (int c = 0; c < ch; ++c) {
        dst[x * ch + c] = std::min({a[x0 + c], a[x1 + c], b[x0 + c], b[x1 + c]});
      }
    }
  }
  return out;
}

bool IsMultiColumnProse(tesseract::TessBaseAPI& api, const Image& page, int dpi) {
  const Image half = HalfSize(page);
  const int width = half.width, height = half.height;
  api.SetImage(half.pixels.data(), half.width, half.height, half.channels, half.stride);
  api.SetSourceResolution(std::max(1, dpi / 2));
  const tesseract::PageSegMode mode = api.GetPageSegMode();
  api.SetPageSegMode(tesseract::PSM_AUTO);
  struct Box {
    int left, top, right, bottom;
  };
  std::vector<Box> blocks;
  {
    std::unique_ptr<tesseract::PageIterator> it(api.AnalyseLayout());
    if (it != nullptr && !it->Empty(tesseract::RIL_BLOCK)) {
      do {
        Box b{};
        if (!it->BoundingBox(tesseract::RIL_BLOCK, &b.left, &b.top, &b.right, &b.bottom)) continue;
        if (it->BlockType() != tesseract::PT_FLOWING_TEXT) continue;
        if (b.right - b.left > width / 4) blocks.push_back(b);
      } while (it->Next(tesseract::RIL_BLOCK));
    }
  }
  api.SetPageSegMode(mode);
  // How far down the page wide text blocks stand side by side.
  long side_by_side = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t j = i + 1; j < blocks.size(); ++j) {
      const Box& a = blocks[i];
      const Box& b = blocks[j];
      const bool apart = a.right <= b.left || b.right <= a.left;
      const int overlap = std::min(a.bottom, b.bottom) - std::max(a.top, b.top);
      if (apart && overlap > 0) side_by_side += overlap;
    }
  }
  return side_by_side * 100 >= static_cast<long>(height) * kMinColumnsPercent;
}

// The page's text, a line per text line and a blank line between
// paragraphs (as TessBaseAPI::GetUTF8Text lays it out), without noise words
// (kNoiseConfidence); every word, noise included, into `*words`.
std::string TextOf(tesseract::TessBaseAPI& api, std::vector<Word>* words) {
  std::string text, line;
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (it == nullptr || it->Empty(tesseract::RIL_WORD)) return text;
  bool para_break = false;
  auto end_line = [&] {
    if (!line.empty()) {
      if (para_break && !text.empty()) text += '\n';
      text += line;
      text += '\n';
      line.clear();
      para_break = false;
    }
  };
  do {
    if (it->IsAtBeginningOf(tesseract::RIL_TEXTLINE)) end_line();
    if (it->IsAtBeginningOf(tesseract::RIL_PARA)) para_break = true;
    std::unique_ptr<char[]> word(it->GetUTF8Text(tesseract::RIL_WORD));
    if (!word) continue;
    const float confidence = it->Confidence(tesseract::RIL_WORD);
    int left = 0, top = 0, right = 0, bottom = 0;
    if (it->BoundingBox(tesseract::RIL_WORD, &left, &top, &right, &bottom)) {
      words->push_back(Word{word.get(), left, top, right - left, bottom - top, confidence});
    }
    if (confidence < kNoiseConfidence && !HasLetterOrDigit(word.get())) continue;
    if (!line.empty()) line += ' ';
    line += word.get();
  } while (it->Next(tesseract::RIL_WORD));
  end_line();
  return text;
}

// Tesseract refuses larger images (its coordinates are 16-bit).
constexpr int kMaxSide = 32767;

std::vector<std::string> SplitLanguages(const std::string& languages) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= languages.size()) {
    std::size_t plus = languages.find('+', start);
    if (plus == std::string::npos) plus = languages.size();
    out.push_back(languages.substr(start, plus - start));
    start = plus + 1;
  }
  return out;
}

// "tesseract-ocr-spa, tesseract-ocr-eng": Debian's package for each model
// ("chi_sim" is packaged as tesseract-ocr-chi-sim).
std::string DebianPackages(const std::vector<std::string>& languages) {
  std::string out;
  for (const std::string& lang : languages) {
    std::string pkg = "tesseract-ocr-" + lang;
    std::replace(pkg.begin(), pkg.end(), '_', '-');
    std::transform(pkg.begin(), pkg.end(), pkg.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out += (out.empty() ? "" : ", ") + pkg;
  }
  return out;
}

bool ValidLanguageName(const std::string& lang) {
  return !lang.empty() && std::all_of(lang.begin(), lang.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// Clears Tesseract's per-page state (results and its copy of the image) on
// every exit path of Engine::Read, keeping the models.
class ClearOnExit {
 public:
  explicit ClearOnExit(tesseract::TessBaseAPI* api) : api_(api) {}
  ClearOnExit(const ClearOnExit&) = delete;
  ClearOnExit& operator=(const ClearOnExit&) = delete;
  ~ClearOnExit() { api_->Clear(); }

 private:
  tesseract::TessBaseAPI* api_;
};

// kInvalidArgument unless `image` is something Tesseract can read.
Status CheckImage(const Image& image) {
  if (image.empty()) {
    return Fail(Code::kInvalidArgument, "ocr: empty image (" + std::to_string(image.width) + "x" +
                                            std::to_string(image.height) + ")");
  }
  if (image.width < 0 || image.height < 0 ||
      (image.channels != 1 && image.channels != 3 && image.channels != 4) ||
      image.stride < image.width * image.channels ||
      image.pixels.size() <
          static_cast<std::size_t>(image.stride) * static_cast<std::size_t>(image.height)) {
    return Fail(Code::kInvalidArgument,
                "ocr: malformed image (channels must be 1, 3 or 4 and the pixel buffer must "
                "hold stride x height bytes)");
  }
  if (image.width > kMaxSide || image.height > kMaxSide) {
    return Fail(Code::kInvalidArgument,
                "ocr: " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                    " pixels is too large for Tesseract (at most " + std::to_string(kMaxSide) +
                    " per side); scale the page down");
  }
  return Ok();
}

}  // namespace

int LibraryThreadLimit() { return omp_get_thread_limit(); }

std::string LibraryVersions() {
  std::string versions = std::string("tesseract ") + tesseract::TessBaseAPI::Version();
  std::unique_ptr<char, decltype(&std::free)> lept(getLeptonicaVersion(), &std::free);
  if (lept) versions += std::string(", ") + lept.get();
  return versions;
}

struct Engine::Impl {
  explicit Impl(float min_confidence) : osd_min_confidence(min_confidence) {}

  tesseract::TessBaseAPI api;  // ~TessBaseAPI() calls End()
  float osd_min_confidence;
  std::unique_ptr<OrientationDetector> orientation;  // made on first use
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Result<Engine> Engine::Open(const Options& options) {
  const std::vector<std::string> languages = SplitLanguages(options.languages);
  if (!std::all_of(languages.begin(), languages.end(), ValidLanguageName)) {
    return Fail(Code::kInvalidArgument, "ocr: bad language list '" + options.languages +
                                            "'; expected names joined by '+', like spa+eng");
  }
  const std::string where = options.tessdata_dir.empty()
                                ? std::string("Tesseract's default tessdata folder")
                                : "'" + options.tessdata_dir + "'";
  const std::string install = "; install the Debian packages " + DebianPackages(languages) +
                              " (or point Options::tessdata_dir or TESSDATA_PREFIX at the "
                              "folder holding the .traineddata files)";
  try {
    auto impl = std::make_unique<Impl>(options.osd_min_confidence);
    tesseract::TessBaseAPI& api = impl->api;
    // Tesseract prints warnings ("Estimating resolution", missing models)
    // on stderr, which would garble the CLI's output; errors reach our
    // callers as Results. The variable is set through Init so that Init's
    // own messages are silenced too.
    const std::vector<std::string> names = {"debug_file"};
    const std::vector<std::string> values = {"/dev/null"};
    const char* datapath = options.tessdata_dir.empty() ? nullptr : options.tessdata_dir.c_str();
    if (api.Init(datapath, options.languages.c_str(), tesseract::OEM_LSTM_ONLY, nullptr, 0, &names,
                 &values, false) != 0) {
      return Fail(Code::kUnavailable, "ocr: cannot load the Tesseract models for '" +
                                          options.languages + "' from " + where + install);
    }
    // Init succeeds when only the first language loads; a missing second
    // model would silently lower quality, so treat it as missing too.
    std::vector<std::string> loaded;
    api.GetLoadedLanguagesAsVector(&loaded);
    std::string missing;
    for (const std::string& lang : languages) {
      if (std::find(loaded.begin(), loaded.end(), lang) == loaded.end()) {
        missing += (missing.empty() ? "" : "+") + lang;
      }
    }
    if (!missing.empty()) {
      return Fail(Code::kUnavailable, "ocr: cannot load the Tesseract model for '" + missing +
                                          "' from " + where + install);
    }
    // One column of text of variable sizes, read line by line across the
    // whole page. Back-office pages are forms and tables: PSM_AUTO finds
    // "columns" in them and reads all labels, then all amounts, which
    // tears "Salario base 1.796,95" apart. Measured on a tuning set of 64
    // degraded pages (samples/generate.py --profile eval --seed 7, not the
    // evaluation set): pooled CER 4.38% with PSM_AUTO, 2.83% with this,
    // 5.37% with PSM_SINGLE_BLOCK.
    api.SetPageSegMode(tesseract::PSM_SINGLE_COLUMN);
    return Engine(std::move(impl));
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("ocr: tesseract failed to start: ") + e.what());
  }
}

Result<Orientation> Engine::DetectOrientation(const Image& image) {
  CU_CHECK(impl_ != nullptr);  // not a moved-from Engine
  CU_TRY(CheckImage(image));
  if (impl_->orientation == nullptr) {
    // The OSD model is looked for where the Engine's models were found.
    const char* datapath = impl_->api.GetDatapath();
    impl_->orientation = std::make_unique<OrientationDetector>(datapath != nullptr ? datapath : "",
                                                               impl_->osd_min_confidence);
  }
  return impl_->orientation->Detect(impl_->api, image);
}

Result<Page> Engine::Read(const Image& image_in, const ReadOptions& options) {
  CU_CHECK(impl_ != nullptr);  // not a moved-from Engine
  CU_TRY(CheckImage(image_in));
  if (options.pdf_image != nullptr) {
    if (auto checked = CheckImage(*options.pdf_image); !checked) {
      // "ocr: pdf_image: empty image (0x0)"
      return Fail(checked.error().code, "ocr: pdf_image: " + checked.error().message.substr(5));
    }
    if (options.pdf_image->width != image_in.width ||
        options.pdf_image->height != image_in.height) {
      return Fail(Code::kInvalidArgument,
                  "ocr: pdf_image is " + std::to_string(options.pdf_image->width) + "x" +
                      std::to_string(options.pdf_image->height) + ", the page " +
                      std::to_string(image_in.width) + "x" + std::to_string(image_in.height) +
                      "; the text layer needs them the same size");
    }
  }

  Orientation orientation;
  Image turned, turned_pdf_image;
  const Image* image = &image_in;
  const Image* pdf_image = options.pdf_image != nullptr ? options.pdf_image : &image_in;
  if (options.orient) {
    CU_ASSIGN_OR_RETURN(orientation, DetectOrientation(image_in));
    if (orientation.quarter_turns != 0) {
      turned = RotateQuarterTurns(image_in, orientation.quarter_turns);
      image = &turned;
      if (options.pdf && options.pdf_image != nullptr) {
        turned_pdf_image = RotateQuarterTurns(*options.pdf_image, orientation.quarter_turns);
        pdf_image = &turned_pdf_image;
      } else {
        pdf_image = &turned;
      }
    }
  }

  // The time left, for Tesseract's monitor (whole milliseconds, at least 1).
  const bool limited = options.deadline != std::chrono::steady_clock::time_point::max();
  auto past_deadline = [] {
    return Fail(Code::kDeadlineExceeded, "ocr: stopped at the time limit, the page not read");
  };
  tesseract::ETEXT_DESC monitor;
  if (limited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          options.deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return past_deadline();
    monitor.set_deadline_msecs(static_cast<std::int32_t>(std::min<std::int64_t>(left, INT32_MAX)));
  }

  tesseract::TessBaseAPI& api = impl_->api;
  const int dpi = image->dpi > 0 ? image->dpi : kDefaultDpi;
  try {
    ClearOnExit clear(&api);
    // Forms and tables are read line by line across the page (Open), prose
    // set in columns column by column. The layout is judged on a half-size
    // copy; the page itself is set afterwards, which also drops that layout.
    const bool columns = IsMultiColumnProse(api, *image, dpi);
    // SetImage copies the pixels; `image` need not outlive the call.
    api.SetImage(image->pixels.data(), image->width, image->height, image->channels, image->stride);
    // Set after SetImage, which resets it. Without it Tesseract warns
    // "Invalid resolution 0 dpi" and guesses from the text height.
    api.SetSourceResolution(dpi);
    if (columns) api.SetPageSegMode(tesseract::PSM_AUTO);
    const int recognised = api.Recognize(limited ? &monitor : nullptr);
    if (columns) api.SetPageSegMode(tesseract::PSM_SINGLE_COLUMN);
    // Past the deadline Tesseract stops between words and may still say it
    // recognised the page: what it read is partial.
    if (limited && monitor.deadline_exceeded()) return past_deadline();
    if (recognised != 0) {
      return Fail(Code::kInternal, "ocr: tesseract could not recognise the page");
    }

    Page page;
    page.orientation = orientation;
    page.mean_confidence = static_cast<float>(api.MeanTextConf());
    page.text = TextOf(api, &page.words);
    if (options.hocr) {
      std::unique_ptr<char[]> hocr(api.GetHOCRText(options.page_number));
      if (!hocr) return Fail(Code::kInternal, "ocr: tesseract could not make the page's hOCR");
      page.hocr = hocr.get();
    }
    if (options.pdf) {
      QuietLeptonica();
      PixPtr background = ToPdfPix(*pdf_image, dpi);
      if (!background) return Fail(Code::kInternal, "ocr: pdf: out of memory");
      CU_ASSIGN_OR_RETURN(page.pdf, RenderPdfPage(api, std::move(background), options.temp_dir));
    }
    return page;
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("ocr: tesseract failed: ") + e.what());
  }
}

}  // namespace custodia::ocr
