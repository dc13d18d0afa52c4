// capture/barcode.h: barcodes and QR codes on a page (zxing-cpp, private to
// capture/), and separator sheets: the pages between the documents of a
// batch that start a new document and are not kept (docs/separators.md).
#ifndef CUSTODIA_CAPTURE_BARCODE_H_
#define CUSTODIA_CAPTURE_BARCODE_H_

#include <string>
#include <vector>

#include "base/image.h"
#include "base/result.h"

namespace custodia::capture {

struct Barcode {
  std::string format;  // as zxing-cpp names it: "QRCode", "Code39", "DataMatrix", ...
  std::string text;    // the payload as UTF-8
};

struct BarcodeOptions {
  // Slower, more thorough search (every scan line, more finder candidates).
  bool try_harder = true;
  // Also look for linear codes turned 90/270 degrees (2-D codes are found
  // at any angle anyway, linear ones upside down too).
  bool try_rotate = true;
  // Read Code 39 as Full ASCII ("+A" is "a"); off, as in zxing-cpp.
  bool code39_full_ascii = false;
  // Symbologies to look for, by zxing-cpp's names ("QRCode", "Code39",
  // "Code128", "DataMatrix", "PDF417", "Aztec", "EAN-13", "ITF", ...). Empty:
  // every symbology zxing-cpp reads. Fewer is faster.
  std::vector<std::string> formats;
};

// Every barcode zxing-cpp reads on `page` (gray, RGB or RGBA; alpha is
// ignored), in the order it reports them; empty if none. The page is read at
// its own size only: zxing-cpp's downscaling pyramid is never used, because
// Debian's zxing-cpp 1.4.0 aborts the process (a failed assertion) when it
// finds a linear code on two of its layers. kInvalidArgument for an empty or
// malformed image or an unknown format name; kInternal if zxing-cpp fails
// (out of memory).
Result<std::vector<Barcode>> ReadBarcodes(const Image& page, const BarcodeOptions& options = {});

struct SeparatorOptions {
  // A code whose whole text is one of these, in any symbology looked for,
  // makes the page a separator.
  std::vector<std::string> payloads = {"CUSTODIA-SEP"};
  // A Code 39 barcode reading "PATCHT" makes the page a separator too. (It is
  // not a Kodak patch code: zxing-cpp cannot read those.)
  bool patch_t = true;
  // A 2-D code (QR, Micro QR, Data Matrix, PDF417) reading case_prefix +
  // <id> makes the page a separator that opens case file <id>. Empty: no
  // case files.
  std::string case_prefix = "EXP:";
};

struct Separator {
  bool found = false;     // the page is a separator sheet
  std::string payload;    // the text of the code that made it one
  std::string case_file;  // the case file it opens; empty: none
  // Non-empty when the page is not a separator only because of a code that
  // looked like one and was refused, with the reason ("capture: separator:
  // case file id ... is not 1..64 of [A-Za-z0-9._/-]"), for the review queue.
  std::string refused;
};

// Whether `page` (gray, RGB or RGBA) is a separator sheet. It is read as it
// is, trying harder and rotated, for QR Code, Micro QR, Data Matrix, PDF417,
// Code 39 and Code 128: tens of milliseconds for a 300-dpi A4 page, and
// downscaling first saves little and loses thin bars (docs/separators.md).
//
// A case id is 1..64 bytes of [A-Za-z0-9._/-]. A page with a case-prefixed
// code whose id is not, or with codes for two different case files, is not a
// separator at all, even if it also holds a payload code (`refused` says
// why): splitting there would silently file the documents outside the case
// the sheet meant, while a kept page is seen by a person. The id is a label,
// not a path: ".." and "a//b" are valid ids. Errors as ReadBarcodes.
Result<Separator> FindSeparator(const Image& page, const SeparatorOptions& options = {});

}  // namespace custodia::capture

#endif  // CUSTODIA_CAPTURE_BARCODE_H_
