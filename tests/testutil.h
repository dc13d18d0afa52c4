// tests/testutil.h: helpers shared by the cross-module tests: temporary
// folders, running the custodia binary, reading the samples.
#ifndef CUSTODIA_TESTS_TESTUTIL_H_
#define CUSTODIA_TESTS_TESTUTIL_H_

#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace custodia::testing

#endif  // CUSTODIA_TESTS_TESTUTIL_H_
