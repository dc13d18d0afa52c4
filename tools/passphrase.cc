// tools/passphrase.cc: reading a passphrase from a file, the environment or
// the terminal without echo.
#include "tools/passphrase.h"

#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/env.h"

namespace custodia::tools {
namespace {

// WARNING: the line is a secret; the caller wipes `line` and `buf`.
Result<std::string> ReadLineFromTerminal(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Fail(Code::kNotFound, "no terminal");
  struct termios old_mode;
  bool restore = ::tcgetattr(fd, &old_mode) == 0;
  if (restore) {
    struct termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  c = 0;
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old_mode);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return line;
}

void WipeString(std::string* s) {
  explicit_bzero(s->data(), s->capacity());
  s->clear();
}

}  // namespace

Passphrase& Passphrase::operator=(Passphrase&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

void Passphrase::Wipe() { WipeString(&value_); }

Result<Passphrase> ReadPassphrase(const std::string& file, const std::string& user, bool confirm) {
  if (!file.empty()) {
    auto bytes = Env::Default()->ReadFile(file);
    if (!bytes) return Fail(Code::kInvalidArgument, "--passphrase-file: " + bytes.error().message);
    std::string line(bytes->begin(), bytes->end());
    explicit_bzero(bytes->data(), bytes->size());
    std::size_t end = line.find_first_of("\r\n");
    Passphrase p(line.substr(0, end));
    WipeString(&line);
    if (p.value().empty())
      return Fail(Code::kInvalidArgument,
                  "--passphrase-file " + file + ": the first line is empty");
    return p;
  }
  if (const char* env = std::getenv("CUSTODIA_PASSPHRASE"); env != nullptr && *env != '\0')
    return Passphrase(env);
  auto first = ReadLineFromTerminal("passphrase for " + user + ": ");
  if (!first)
    return Fail(Code::kInvalidArgument,
                "a passphrase for " + user +
                    " is needed and there is no terminal to ask it on: set CUSTODIA_PASSPHRASE or "
                    "use --passphrase-file FILE");
  Passphrase p(std::move(*first));
  if (confirm) {
    auto again = ReadLineFromTerminal("again: ");
    bool same = again && *again == p.value();
    if (again) WipeString(&*again);
    if (!same)
      return Fail(Code::kInvalidArgument, "the two passphrases differ; nothing was changed");
  }
  if (p.value().empty()) return Fail(Code::kInvalidArgument, "an empty passphrase is not accepted");
  return p;
}

}  // namespace custodia::tools
