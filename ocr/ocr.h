// ocr/ocr.h: Tesseract through its C++ API. One Engine per thread; the
// language models are loaded once, when the Engine is opened, and reused for
// every page it reads.
#ifndef CUSTODIA_OCR_OCR_H_
#define CUSTODIA_OCR_OCR_H_

#include <memory>
#include <string>
#include <vector>

#include "base/image.h"
#include "base/result.h"

namespace custodia::ocr {

struct Options {
  std::string languages = "spa+eng";
  std::string tessdata_dir;  // empty: Tesseract's default (TESSDATA_PREFIX)
};

struct Word {
  std::string text;
  int left = 0, top = 0, width = 0, height = 0;  // pixels
  float confidence = 0;                           // 0..100
};

struct Page {
  std::string text;           // UTF-8, lines ended by '\n'
  std::vector<Word> words;
  float mean_confidence = 0;  // 0..100, Tesseract's MeanTextConf
};

// Tesseract runs parts of its LSTM on OpenMP threads. custodia runs one
// Engine per worker thread instead, and both at once oversubscribe the cores
// (measured on 2 cores: one page took 4.0 s instead of 1.9 s). The OpenMP
// runtime reads OMP_THREAD_LIMIT once, when it is loaded, before main: a
// setenv() from a running process changes nothing. So a program that uses
// Engines must be started with OMP_THREAD_LIMIT=1; the custodia binary
// re-executes itself to make sure of it. Returns the limit in force.
int LibraryThreadLimit();

// "tesseract 5.3.0, leptonica-1.82.0".
std::string LibraryVersions();

class Engine {
 public:
  // kUnavailable, naming the languages and the package to install, when
  // the models cannot be loaded.
  static Result<Engine> Open(const Options& options = {});

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // Recognises one page. kInvalidArgument for an empty image.
  Result<Page> Read(const Image& image);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custodia::ocr

#endif  // CUSTODIA_OCR_OCR_H_
