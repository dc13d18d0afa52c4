// tests/testutil.h: helpers shared by the cross-module tests: temporary
// folders, running the custodia binary, reading the samples.
#ifndef CUSTODIA_TESTS_TESTUTIL_H_
#define CUSTODIA_TESTS_TESTUTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace custodia::testing {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "custodia-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The repository root (ctest sets CUSTODIA_SOURCE_DIR).
inline std::filesystem::path SourceDir() {
  const char* dir = std::getenv("CUSTODIA_SOURCE_DIR");
  return dir ? dir : ".";
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteText(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// A PDF file of `objects` (object k + 1 is objects[k]; object 1 the
// catalog), with its cross-reference table and trailer.
inline std::string PdfOfObjects(const std::vector<std::string>& objects) {
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (std::size_t offset : offsets) {
    char entry[24];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// Writes a one-page born-digital PDF whose text layer holds `lines` (ASCII,
// Helvetica 11 pt, top to bottom): a document whose content a test chooses.
inline void WriteTextPdf(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::string content = "BT /F1 11 Tf 14 TL 60 780 Td\n";
  for (const std::string& line : lines) {
    std::string escaped;
    for (char c : line) {
      if (c == '(' || c == ')' || c == '\\') escaped += '\\';
      escaped += c;
    }
    content += "(" + escaped + ") Tj T*\n";
  }
  content += "ET\n";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  };
  std::ofstream(path, std::ios::binary) << PdfOfObjects(objects);
}

// Single-quotes `arg` for /bin/sh.
inline std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A shell command that runs the custodia `binary` on `archive` with `args`.
// `passphrase` is passed in the environment (never argv); when empty, the
// command runs with no CUSTODIA_PASSPHRASE at all, whatever the caller's
// environment holds.
inline std::string CustodiaCommand(const std::string& binary, const std::filesystem::path& archive,
                                   const std::string& args, const std::string& passphrase) {
  std::string env = passphrase.empty() ? "env -u CUSTODIA_PASSPHRASE "
                                       : "CUSTODIA_PASSPHRASE=" + ShellQuote(passphrase) + " ";
  return env + binary + " --archive " + ShellQuote(archive.string()) + " " + args;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs `command` through /bin/sh with no standard input.
inline CommandResult RunCommand(const std::string& command, const std::filesystem::path& scratch) {
  std::filesystem::path err_file = scratch / "stderr.txt";
  std::string full = command + " </dev/null 2>" + ShellQuote(err_file.string());
  CommandResult r;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = ReadText(err_file);
  return r;
}

#ifdef CUSTODIA_BINARY
// The fixture of the tests that run the custodia binary (CUSTODIA_BINARY,
// set by tests/CMakeLists.txt's custodia_cli_test): a fresh temporary
// folder, an archive made in it by `custodia init` under `passphrase`, and
// Cli() to run a command on that archive. A subclass's SetUp calls this one
// first and returns on HasFatalFailure().
class CliArchiveTest : public ::testing::Test {
 protected:
  explicit CliArchiveTest(std::string passphrase) : passphrase_(std::move(passphrase)) {}

  void SetUp() override {
    archive_ = tmp_ / "archive";
    CommandResult init = Cli("init");
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  // Runs `custodia --archive ARCHIVE args` as the first user (standard
  // error goes through tmp_/stderr.txt).
  CommandResult Cli(const std::string& args) {
    return RunCommand(CustodiaCommand(CUSTODIA_BINARY, archive_, args, passphrase_), tmp_.path());
  }

  const std::string passphrase_;
  TempDir tmp_;
  std::filesystem::path archive_;
};
#endif  // CUSTODIA_BINARY

// Lower-case and strip Spanish accents: the comparison the OCR is held to.
inline std::string Fold(const std::string& s) {
  static const std::map<std::string, char> kAccents = {
      {"á", 'a'}, {"é", 'e'}, {"í", 'i'}, {"ó", 'o'}, {"ú", 'u'}, {"ü", 'u'}, {"ñ", 'n'},
      {"Á", 'a'}, {"É", 'e'}, {"Í", 'i'}, {"Ó", 'o'}, {"Ú", 'u'}, {"Ü", 'u'}, {"Ñ", 'n'}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(std::tolower(c));
      ++i;
      continue;
    }
    bool mapped = false;
    for (const auto& [from, to] : kAccents) {
      if (s.compare(i, from.size(), from) == 0) {
        out += to;
        i += from.size();
        mapped = true;
        break;
      }
    }
    if (!mapped) out += s[i++];
  }
  return out;
}

// Words of at least `min_len` letters, folded.
// Its words of at least `min_len` letters, folded.
inline std::vector<std::string> Words(const std::string& text, std::size_t min_len) {
  std::vector<std::string> words;
  std::string folded = Fold(text), word;
  for (char ch : folded + " ") {
    if (std::isalpha(static_cast<unsigned char>(ch))) {
      word += ch;
      continue;
    }
    if (word.size() >= min_len) words.push_back(word);
    word.clear();
  }
  return words;
}

// The words and numbers of `text` of at least `min_len` bytes as written
// (case and accents kept): split at ASCII spaces and punctuation.
inline std::vector<std::string> Tokens(const std::string& text, std::size_t min_len) {
  std::vector<std::string> tokens;
  std::string token;
  for (char ch : text + " ") {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      token += ch;
      continue;
    }
    if (token.size() >= min_len) tokens.push_back(token);
    token.clear();
  }
  return tokens;
}

}  // namespace custodia::testing

#endif  // CUSTODIA_TESTS_TESTUTIL_H_
