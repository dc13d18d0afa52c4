// tools/passphrase.h: where the command line gets a person's passphrase —
// never from argv (it would show in `ps` and shell history).
#ifndef CUSTODIA_TOOLS_PASSPHRASE_H_
#define CUSTODIA_TOOLS_PASSPHRASE_H_

#include <string>

#include "base/result.h"

namespace custodia::tools {

// A passphrase, wiped from memory when destroyed.
class Passphrase {
 public:
  Passphrase() = default;
  explicit Passphrase(std::string value) : value_(std::move(value)) {}
  Passphrase(Passphrase&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Passphrase& operator=(Passphrase&& other) noexcept;
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  ~Passphrase() { Wipe(); }

  const std::string& value() const { return value_; }

 private:
  void Wipe();
  std::string value_;
};

// In order: the first line of `file` when not empty (--passphrase-file);
// $CUSTODIA_PASSPHRASE; a prompt on the terminal (no echo) naming `user`.
// kInvalidArgument when none of them is available (no terminal, as under
// cron or CI), saying how to give one.
Result<Passphrase> ReadPassphrase(const std::string& file, const std::string& user, bool confirm);

}  // namespace custodia::tools

#endif  // CUSTODIA_TOOLS_PASSPHRASE_H_
