// ocr/pdf.cc: one-page searchable PDFs through Tesseract's PDF renderer, and
// joining them into one document with qpdf.
#include "ocr/pdf.h"

#include <fcntl.h>
#include <tesseract/baseapi.h>
#include <tesseract/renderer.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ocr/ocr.h"

namespace custodia::ocr {
namespace {

namespace fs = std::filesystem;

std::string ErrnoText(int err) { return std::strerror(err); }

// A temporary file made by mkstemps: closed and removed on every exit path.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  // Creates "<dir>/custodia-ocr-XXXXXX<suffix>", readable by its owner only.
  Status Create(const std::string& dir, const std::string& suffix) {
    std::string path = dir + "/custodia-ocr-XXXXXX" + suffix;
    fd_ = ::mkstemps(path.data(), static_cast<int>(suffix.size()));
    if (fd_ < 0) {
      return Fail(Code::kIo,
                  "ocr: pdf: cannot create a temporary file in '" + dir + "': " + ErrnoText(errno));
    }
    path_ = std::move(path);
    return Ok();
  }

  // Everything in the file, read through the descriptor made at Create (a
  // writer that reopened the path by name and truncated it wrote to the
  // same file).
  Result<std::vector<std::uint8_t>> ReadAll() const {
    std::vector<std::uint8_t> out;
    std::uint8_t buffer[1 << 16];
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(fd_, buffer, sizeof buffer, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return Fail(Code::kIo, "ocr: pdf: cannot read back '" + path_ + "': " + ErrnoText(errno));
      }
      if (n == 0) return out;
      out.insert(out.end(), buffer, buffer + n);
      offset += n;
    }
  }

  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace

Result<std::vector<std::uint8_t>> RenderPdfPage(tesseract::TessBaseAPI& api, PixPtr background,
                                                const std::string& temp_dir) {
  CU_CHECK(background != nullptr);
  // The renderer embeds pdf.ttf (a glyphless font for the invisible text)
  // from the folder the models came from; without it BeginDocument fails
  // with a message on stderr only, so look first.
  const char* datapath = api.GetDatapath();
  const std::string datadir = datapath != nullptr ? datapath : "";
  std::error_code ec;
  if (datadir.empty() || !fs::is_regular_file(fs::path(datadir) / "pdf.ttf", ec)) {
    return Fail(Code::kUnavailable, "ocr: pdf: Tesseract's font pdf.ttf is not in '" + datadir +
                                        "' (Debian package libtesseract5); cannot render a PDF");
  }

  std::string dir = temp_dir;
  if (dir.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    dir = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  }
  TempFile file;
  CU_TRY(file.Create(dir, ".pdf"));
  const std::string outputbase = file.path().substr(0, file.path().size() - 4);

  // The renderer takes the picture from the "input image". It is swapped
  // only now, after recognition, because Tesseract's LSTM reads the input
  // image too when it has the size of the recognised one.
  api.SetInputImage(background.release());  // Tesseract owns it from here
  {
    tesseract::TessPDFRenderer renderer(outputbase.c_str(), datadir.c_str(), /*textonly=*/false);
    if (!renderer.happy()) {
      return Fail(Code::kIo, "ocr: pdf: cannot write '" + file.path() + "'");
    }
    if (!renderer.BeginDocument("") || !renderer.AddImage(&api) || !renderer.EndDocument() ||
        !renderer.happy()) {
      return Fail(Code::kIo,
                  "ocr: pdf: tesseract could not render the page into '" + file.path() + "'");
    }
  }  // ~TessPDFRenderer closes the file
  return file.ReadAll();
}

Result<std::vector<std::uint8_t>> MergePdfs(std::span<const std::vector<std::uint8_t>> pdfs) {
  if (pdfs.empty()) return Fail(Code::kInvalidArgument, "ocr: merge: no PDFs to merge");
  try {
    QPDF merged;
    merged.emptyPDF();
    QPDFPageDocumentHelper merged_pages(merged);
    // qpdf copies pages lazily, at write time: the inputs (and their bytes)
    // must outlive the QPDFWriter.
    std::vector<std::unique_ptr<QPDF>> inputs;
    for (std::size_t i = 0; i < pdfs.size(); ++i) {
      const std::string name = "pdf " + std::to_string(i);
      auto input = std::make_unique<QPDF>();
      input->setSuppressWarnings(true);
      try {
        input->processMemoryFile(name.c_str(), reinterpret_cast<const char*>(pdfs[i].data()),
                                 pdfs[i].size());
        for (QPDFPageObjectHelper& page : QPDFPageDocumentHelper(*input).getAllPages()) {
          merged_pages.addPage(page, /*first=*/false);
        }
      } catch (const std::exception& e) {
        return Fail(Code::kCorruption,
                    "ocr: merge: " + name + " is not a readable PDF: " + e.what());
      }
      inputs.push_back(std::move(input));
    }
    QPDFWriter writer(merged);
    writer.setOutputMemory();
    // The same pages give the same bytes (no random /ID).
    writer.setDeterministicID(true);
    writer.write();
    const std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
    const unsigned char* bytes = buffer->getBuffer();
    return std::vector<std::uint8_t>(bytes, bytes + buffer->getSize());
  } catch (const std::exception& e) {
    return Fail(Code::kInternal, std::string("ocr: merge: qpdf failed: ") + e.what());
  }
}

}  // namespace custodia::ocr
