// pipeline/config.cc: custodia.toml (docs/config.md), read with toml++.
// Every error names the file, the line and the key, and says what is
// expected; an unknown key is an error, so that a misspelt setting is never
// silently replaced by its default.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <toml++/toml.h>

#include "base/env.h"
#include "classify/classify.h"
#include "pipeline/pipeline.h"

namespace custodia::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigFile = "custodia.toml";

// How long each type may wait in review, unless custodia.toml says
// otherwise: the documents that hold up a customer's file (ID, bank
// receipts) first.
const std::map<std::string, double>& DefaultDueHours() {
  static const std::map<std::string, double> hours = {
      {"dni", 8},          {"justificante_bancario", 8}, {"nomina", 24},
      {"reclamacion", 24}, {"factura", 48},              {"albaran", 48},
      {"contrato", 72},
  };
  return hours;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// Reads one file's tables, naming where each problem is.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Unexpected Bad(const toml::node& node, const std::string& key, const std::string& what) const {
    return Fail(Code::kInvalidArgument, file_ + ":" + std::to_string(node.source().begin.line) +
                                            ": " + key + ": " + what);
  }

  // Fails on a key of `table` not in `known`.
  Status OnlyKeys(const toml::table& table, const std::string& prefix,
                  const std::set<std::string>& known) const {
    for (const auto& [key, value] : table) {
      const std::string name(key.str());
      if (known.count(name) == 0) {
        std::vector<std::string> names(known.begin(), known.end());
        return Bad(value, prefix + name, "unknown setting; known here: " + Join(names, ", "));
      }
    }
    return Ok();
  }

  Result<const toml::table*> Table(const toml::table& parent, const std::string& prefix,
                                   const std::string& key) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) return Bad(*node, prefix + key, "must be a table ([" + prefix + key + "])");
    return node->as_table();
  }

  Status Number(const toml::table& t, const std::string& prefix, const std::string& key,
                double min, double max, double* out) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return Ok();
    std::optional<double> v = node->value<double>();
    if (!v || !std::isfinite(*v) || *v < min || *v > max) {
      return Bad(*node, prefix + key,
                 "must be a number from " + Format(min) + " to " + Format(max));
    }
    *out = *v;
    return Ok();
  }

  Status Integer(const toml::table& t, const std::string& prefix, const std::string& key,
                 std::int64_t min, std::int64_t max, std::int64_t* out) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return Ok();
    if (!node->is_integer() || node->as_integer()->get() < min || node->as_integer()->get() > max) {
      return Bad(*node, prefix + key,
                 "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    *out = node->as_integer()->get();
    return Ok();
  }

  Status Bool(const toml::table& t, const std::string& prefix, const std::string& key,
              bool* out) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return Ok();
    if (!node->is_boolean()) return Bad(*node, prefix + key, "must be true or false");
    *out = node->as_boolean()->get();
    return Ok();
  }

  Status String(const toml::table& t, const std::string& prefix, const std::string& key,
                std::string* out) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return Ok();
    if (!node->is_string()) return Bad(*node, prefix + key, "must be a string in quotes");
    *out = node->as_string()->get();
    return Ok();
  }

  const std::string& file() const { return file_; }

 private:
  static std::string Format(double v) {
    std::string s = std::to_string(v);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  std::string file_;
};

bool ValidLanguages(const std::string& s) {
  if (s.empty()) return false;
  bool start = true;
  for (char c : s) {
    if (c == '+') {
      if (start) return false;
      start = true;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    start = false;
  }
  return !start;
}

Status ReadReview(const Reader& r, const toml::table& root, ReviewPolicy* policy) {
  CU_ASSIGN_OR_RETURN(const toml::table* review, r.Table(root, "", "review"));
  if (review == nullptr) return Ok();
  CU_TRY(r.OnlyKeys(*review, "review.", {"due_hours"}));
  CU_ASSIGN_OR_RETURN(const toml::table* due, r.Table(*review, "review.", "due_hours"));
  if (due == nullptr) return Ok();
  const std::vector<std::string>& types = classify::DocumentTypes();
  for (const auto& [key, value] : *due) {
    const std::string type(key.str());
    const std::string name = "review.due_hours." + type;
    std::optional<double> hours = value.value<double>();
    if (!hours || !(*hours > 0) || !std::isfinite(*hours)) {
      return r.Bad(value, name, "must be a positive number of hours");
    }
    if (type == "default") {
      policy->default_hours = *hours;
    } else if (std::find(types.begin(), types.end(), type) != types.end()) {
      policy->due_hours[type] = *hours;
    } else {
      return r.Bad(value, name, "no such document type; use one of " + Join(types, ", ") +
                                    " or default");
    }
  }
  return Ok();
}

Status ReadWatch(const Reader& r, const toml::table& root, WatchConfig* w) {
  CU_ASSIGN_OR_RETURN(const toml::table* watch, r.Table(root, "", "watch"));
  if (watch == nullptr) return Ok();
  const std::string p = "watch.";
  CU_TRY(r.OnlyKeys(*watch, p,
                    {"inbox", "settle_seconds", "rescan_seconds", "marker", "require_marker",
                     "sources", "document_timeout_seconds", "memory_limit_mb"}));
  CU_TRY(r.Number(*watch, p, "settle_seconds", 0, 86400, &w->settle_seconds));
  CU_TRY(r.Number(*watch, p, "rescan_seconds", 0.1, 86400, &w->rescan_seconds));
  CU_TRY(r.String(*watch, p, "marker", &w->marker));
  if (w->marker.find('/') != std::string::npos || w->marker == "." || w->marker == "..") {
    return r.Bad(*watch->get("marker"), p + "marker", "must be a plain file name (no '/')");
  }
  CU_TRY(r.Bool(*watch, p, "require_marker", &w->require_marker));
  if (w->require_marker && w->marker.empty()) {
    return r.Bad(*watch->get("require_marker"), p + "require_marker",
                 "needs a marker name (watch.marker)");
  }
  std::string sources = "keep";
  CU_TRY(r.String(*watch, p, "sources", &sources));
  if (sources != "keep" && sources != "delete") {
    return r.Bad(*watch->get("sources"), p + "sources",
                 "must be \"keep\" (moved to INBOX/done/) or \"delete\"");
  }
  w->delete_sources = sources == "delete";
  CU_TRY(r.Number(*watch, p, "document_timeout_seconds", 1, 86400, &w->document_timeout_seconds));
  CU_TRY(r.Integer(*watch, p, "memory_limit_mb", 0, 1 << 24, &w->memory_limit_mb));
  if (w->memory_limit_mb != 0 && w->memory_limit_mb < 256) {
    return r.Bad(*watch->get("memory_limit_mb"), p + "memory_limit_mb",
                 "at least 256 (OCR needs it), or 0 for no limit");
  }

  const toml::node* inboxes = watch->get("inbox");
  if (inboxes == nullptr) return Ok();
  if (!inboxes->is_array_of_tables()) {
    return r.Bad(*inboxes, "watch.inbox", "must be tables: [[watch.inbox]] with path = \"...\"");
  }
  std::set<std::string> labels;
  for (const toml::node& node : *inboxes->as_array()) {
    const toml::table& t = *node.as_table();
    const std::string q = "watch.inbox.";
    CU_TRY(r.OnlyKeys(t, q, {"path", "label", "station", "passphrase_file"}));
    InboxConfig inbox;
    CU_TRY(r.String(t, q, "path", &inbox.path));
    if (inbox.path.empty()) return r.Bad(node, "watch.inbox", "needs path = \"/folder/to/watch\"");
    CU_TRY(r.String(t, q, "label", &inbox.label));
    CU_TRY(r.String(t, q, "station", &inbox.station));
    CU_TRY(r.String(t, q, "passphrase_file", &inbox.passphrase_file));
    if (inbox.label.find('/') != std::string::npos) {
      return r.Bad(*t.get("label"), q + "label", "must not hold '/'");
    }
    const std::string label =
        inbox.label.empty() ? fs::path(inbox.path).lexically_normal().filename().string() : inbox.label;
    if (!labels.insert(label).second) {
      return r.Bad(node, "watch.inbox", "two inboxes named " + label + "; give each a label");
    }
    w->inboxes.push_back(std::move(inbox));
  }
  return Ok();
}

}  // namespace

Result<Config> LoadConfig(const fs::path& archive_dir) {
  Config config;
  config.review.due_hours = DefaultDueHours();
  const fs::path file = archive_dir / kConfigFile;
  if (!Env::Default()->Exists(file)) return config;
  config.file = file.string();
  const Reader r(file.string());
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return Fail(Code::kInvalidArgument, file.string() + ":" + std::to_string(at.line) + ": " +
                                            std::string(e.description()) + "; fix the file");
  }
  CU_TRY(r.OnlyKeys(root, "", {"review", "watch", "separators", "pages", "ingest"}));
  CU_TRY(ReadReview(r, root, &config.review));
  CU_TRY(ReadWatch(r, root, &config.watch));

  CU_ASSIGN_OR_RETURN(const toml::table* sep, r.Table(root, "", "separators"));
  if (sep != nullptr) {
    CU_TRY(r.OnlyKeys(*sep, "separators.", {"payloads", "patch_t", "case_prefix"}));
    if (const toml::node* node = sep->get("payloads")) {
      if (!node->is_array()) return r.Bad(*node, "separators.payloads", "must be a list of strings");
      config.separator_payloads.clear();
      for (const toml::node& item : *node->as_array()) {
        if (!item.is_string() || item.as_string()->get().empty()) {
          return r.Bad(item, "separators.payloads", "must be a list of non-empty strings");
        }
        config.separator_payloads.push_back(item.as_string()->get());
      }
    }
    CU_TRY(r.Bool(*sep, "separators.", "patch_t", &config.patch_t));
    CU_TRY(r.String(*sep, "separators.", "case_prefix", &config.case_prefix));
  }
  CU_ASSIGN_OR_RETURN(const toml::table* pages, r.Table(root, "", "pages"));
  if (pages != nullptr) {
    CU_TRY(r.OnlyKeys(*pages, "pages.", {"blank_max_ink"}));
    CU_TRY(r.Number(*pages, "pages.", "blank_max_ink", 0, 0.05, &config.blank_max_ink));
  }
  CU_ASSIGN_OR_RETURN(const toml::table* ingest, r.Table(root, "", "ingest"));
  if (ingest != nullptr) {
    CU_TRY(r.OnlyKeys(*ingest, "ingest.", {"jobs", "languages"}));
    std::int64_t jobs = 0;
    CU_TRY(r.Integer(*ingest, "ingest.", "jobs", 0, 256, &jobs));
    config.jobs = static_cast<int>(jobs);
    CU_TRY(r.String(*ingest, "ingest.", "languages", &config.languages));
    if (!ValidLanguages(config.languages)) {
      return r.Bad(*ingest->get("languages"), "ingest.languages",
                   "must be Tesseract language names joined by '+', e.g. \"spa+eng\"");
    }
  }
  return config;
}

// A sanitizer's shadow memory reserves terabytes of address space: no
// default limit there (an explicit one still applies).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

std::int64_t DefaultMemoryLimitMb() {
  if (kSanitized) return 0;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  const std::int64_t mb = static_cast<std::int64_t>(pages) / 2 * page_size >> 20;
  return std::clamp<std::int64_t>(mb, 1024, std::int64_t{1} << 24);
}

Status LimitMemory(std::int64_t mb) {
  if (mb <= 0) return Ok();
  struct rlimit limit;
  limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(mb) << 20;
  if (::setrlimit(RLIMIT_AS, &limit) != 0) {
    return Fail(Code::kInvalidArgument, "memory limit of " + std::to_string(mb) +
                                            " MB: setrlimit: " + std::strerror(errno));
  }
  return Ok();
}

IngestOptions IngestOptionsFrom(const Config& config) {
  IngestOptions options;
  options.document_timeout_seconds = config.watch.document_timeout_seconds;
  options.jobs = config.jobs;
  options.languages = config.languages;
  options.separator_payloads = config.separator_payloads;
  options.separator_patch_t = config.patch_t;
  options.case_prefix = config.case_prefix;
  options.blank_max_ink = config.blank_max_ink;
  options.batch_marker = config.watch.marker;
  return options;
}

}  // namespace custodia::pipeline
