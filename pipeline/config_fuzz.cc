// pipeline/config_fuzz.cc: libFuzzer target over custodia.toml (issue 8):
// the input is written as an archive's custodia.toml and read with
// LoadConfig, as every command does at start. Any bytes must give a Config
// or an error naming the file, never a crash, a hang, a leak or an escaped
// exception; a Config it gives must hold what docs/config.md allows.
// Built with -DCU_FUZZ=ON (clang); seeds by scripts/fuzz.sh (the examples
// of docs/config.md and variations).
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "pipeline/pipeline.h"

using namespace custodia;
using namespace custodia::pipeline;
namespace fs = std::filesystem;

namespace {

std::string* temp_dir = nullptr;

void RemoveTempDir() {
  std::error_code ec;
  if (temp_dir != nullptr) fs::remove_all(*temp_dir, ec);
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "config_fuzz: %s\n", what);
  ::abort();
}

const std::string& ArchiveDir() {
  static const std::string* dir = [] {
    temp_dir = new std::string((fs::temp_directory_path() / "custodia-config-fuzz-XXXXXX").string());
    if (::mkdtemp(temp_dir->data()) == nullptr) Die("mkdtemp");
    std::atexit(RemoveTempDir);
    return temp_dir;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path dir = ArchiveDir();
  {
    std::ofstream out(dir / "custodia.toml", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) Die("cannot write custodia.toml");
  }
  auto config = LoadConfig(dir);
  if (!config) {
    if (config.error().code != Code::kInvalidArgument) Die("a bad file is not kInvalidArgument");
    if (config.error().message.rfind((dir / "custodia.toml").string(), 0) != 0) {
      Die("an error does not begin with the file's name");
    }
    return 0;
  }
  const WatchConfig& w = config->watch;
  if (!(w.settle_seconds >= 0 && w.rescan_seconds >= 0.1 && w.document_timeout_seconds >= 1) ||
      (w.memory_limit_mb != 0 && w.memory_limit_mb < 256) || config->jobs < 0 ||
      config->jobs > 256 || config->languages.empty()) {
    Die("LoadConfig accepted a value out of range");
  }
  for (const InboxConfig& inbox : w.inboxes) {
    if (inbox.path.empty()) Die("an inbox without a path");
  }
  for (const auto& [type, hours] : config->review.due_hours) {
    if (!(hours > 0)) Die("a due time that is not positive");
  }
  (void)IngestOptionsFrom(*config);
  return 0;
}
