// pipeline/review.cc: the review queue (docs/review.md). The router sends a
// document to review when its type is unsure or a field of its type is
// missing, invalid or unsure; an archivist sets fields and types and
// approves, each decision a signed ledger entry with its values sealed.
// The document's classification now is the one sealed at ingest with every
// decision applied in ledger order, so it is always derived from the vault.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "base/env.h"
#include "pipeline/archive_impl.h"

namespace custodia::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vault::ReviewAction;

constexpr const char* kModelFile = "model/types.model";
constexpr double kMicrosPerHour = 3600e6;

double DueHours(const ReviewPolicy& policy, const std::string& type) {
  auto it = policy.due_hours.find(type);
  return it != policy.due_hours.end() ? it->second : policy.default_hours;
}

const char* ActionName(ReviewAction action) {
  switch (action) {
    case ReviewAction::kSetField:
      return "set";
    case ReviewAction::kSetType:
      return "type";
    case ReviewAction::kApprove:
      return "approve";
  }
  return "unknown";
}

// A field as its review values carry it: the Field's JSON, as ToJson writes
// fields.
json FieldJson(const std::string& name, const classify::Field& field) {
  classify::Classification one;
  one.fields[name] = field;
  return json::parse(classify::ToJson(one))["fields"][name];
}

Result<classify::Field> FieldFromJson(const std::string& type, const std::string& name,
                                      const json& value) {
  classify::Classification one =
      classify::FromJson(type, "review", json{{"fields", {{name, value}}}}.dump());
  auto it = one.fields.find(name);
  if (it == one.fields.end()) return Fail(Code::kCorruption, "field " + name + " does not parse");
  return it->second;
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}


// The reasons a document cannot be approved: fields of its type missing or
// invalid. Empty when it can.
std::vector<std::string> Unapprovable(const classify::Classification& c) {
  std::vector<std::string> out;
  for (const std::string& name : classify::FieldsOf(c.type)) {
    auto it = c.fields.find(name);
    if (it == c.fields.end()) {
      out.push_back(name + " is missing");
    } else if (!it->second.valid) {
      out.push_back(name + " is not valid" +
                    (it->second.reason.empty() ? "" : " (" + it->second.reason + ")"));
    }
  }
  return out;
}

}  // namespace

namespace detail {

Document ToDocument(const vault::Record& record, const classify::Classification& c,
                    std::vector<ReviewStep> steps) {
  Document d;
  d.id = record.id;
  d.source = record.source;
  d.pages = record.pages;
  d.type = record.type;
  d.status = record.status;
  d.classification_json = classify::ToJson(c);
  d.original_hash = record.original_hash;
  d.original_size = record.original_size;
  d.sealed_at = FormatUtc(record.sealed_micros);
  d.actor = record.actor;
  d.reviews = std::move(steps);
  return d;
}

Result<classify::Classification> ReadClassification(vault::Vault& vault,
                                                   const vault::Record& record,
                                                   std::string_view purpose,
                                                   std::vector<ReviewStep>* steps) {
  const bool sealed = std::find(record.artefacts.begin(), record.artefacts.end(), "fields") !=
                      record.artefacts.end();
  if (!sealed && record.reviews.empty()) {
    return classify::FromJson(record.type, record.status, "{}");  // nothing to read
  }
  CU_ASSIGN_OR_RETURN(vault::FieldsRead read, vault.ReadFields(record.id, purpose));
  classify::Classification c = classify::FromJson(
      record.sealed_type, record.sealed_status, read.sealed.empty() ? "{}" : read.sealed);
  for (const vault::ReviewEvent& ev : read.reviews) {
    const std::string where =
        "review entry " + std::to_string(ev.seq) + " of " + record.id + ": ";
    ReviewStep step{FormatUtc(ev.micros), ev.actor, ActionName(ev.action), ev.field, "", "",
                    ev.status};
    if (ev.action == ReviewAction::kSetField) {
      json v = json::parse(ev.values, nullptr, /*allow_exceptions=*/false);
      if (!v.is_object() || !v.contains("new") || !v.contains("old") || !v["old"].is_string()) {
        return Fail(Code::kCorruption, where + "its values are not a field correction");
      }
      auto field = FieldFromJson(c.type, ev.field, v["new"]);
      if (!field) return Wrap(field.error(), where);
      step.old_value = v["old"].get<std::string>();
      step.new_value = field->value;
      c.fields[ev.field] = std::move(field).value();
      classify::Revalidate(&c);
    } else if (ev.action == ReviewAction::kSetType) {
      step.old_value = c.type;
      step.new_value = ev.type;
      c = classify::FromJson(ev.type, "review", ev.values);
    }
    c.type = ev.type;
    if (steps != nullptr) steps->push_back(std::move(step));
  }
  c.type = record.type;
  c.status = record.status;
  if (c.status == "approved") c.reasons.clear();  // a person accepted it as it reads
  return c;
}

}  // namespace detail

Result<ReviewPolicy> Archive::Policy() const {
  CU_ASSIGN_OR_RETURN(Config config, LoadConfig(impl_->dir));
  return config.review;
}

Result<std::vector<ReviewItem>> Archive::ReviewQueue() {
  CU_ASSIGN_OR_RETURN(ReviewPolicy policy, Policy());
  std::lock_guard lock(impl_->mu);
  const std::int64_t now = Env::Default()->NowMicros();
  struct Entry {
    std::int64_t due;
    std::int64_t sealed;
    ReviewItem item;
  };
  std::vector<Entry> queue;
  for (const vault::Record& r : impl_->vault.List()) {
    if (r.status != "review") continue;
    const auto due =
        r.sealed_micros + static_cast<std::int64_t>(DueHours(policy, r.type) * kMicrosPerHour);
    ReviewItem item{r.id,
                    r.source,
                    r.type,
                    FormatUtc(r.sealed_micros),
                    FormatUtc(due),
                    static_cast<double>(now - r.sealed_micros) / kMicrosPerHour,
                    now > due,
                    static_cast<int>(r.reviews.size())};
    queue.push_back({due, r.sealed_micros, std::move(item)});
  }
  std::stable_sort(queue.begin(), queue.end(), [](const Entry& a, const Entry& b) {
    return a.due != b.due ? a.due < b.due : a.sealed < b.sealed;
  });
  std::vector<ReviewItem> out;
  out.reserve(queue.size());
  for (Entry& e : queue) out.push_back(std::move(e.item));
  return out;
}

Result<Document> Archive::Impl::Decide(const std::string& id, ReviewAction action,
                                       const std::string& field, const std::string& value) {
  CU_ASSIGN_OR_RETURN(vault::Record record, vault.Find(id));
  std::vector<ReviewStep> steps;
  CU_ASSIGN_OR_RETURN(classify::Classification c,
                      detail::ReadClassification(vault, record, "review", &steps));
  std::string values;
  std::string status = "review";
  ReviewStep step{"", "", ActionName(action), field, "", "", ""};
  switch (action) {
    case ReviewAction::kSetField: {
      if (classify::FieldsOf(c.type).empty()) {
        return Fail(Code::kFailedPrecondition,
                    id + " is typed " + c.type + ", which has no fields; set its type first: " +
                        "custodia review type " + id + " TYPE");
      }
      auto parsed = classify::ParseCorrection(c.type, field, value);
      if (!parsed) return Wrap(parsed.error(), id);
      auto it = c.fields.find(field);
      step.old_value = it != c.fields.end() ? it->second.value : "";
      step.new_value = parsed->value;
      values = json{{"old", step.old_value}, {"new", FieldJson(field, *parsed)}}.dump();
      c.fields[field] = std::move(parsed).value();
      classify::Revalidate(&c);
      break;
    }
    case ReviewAction::kSetType: {
      const std::vector<std::string>& types = classify::DocumentTypes();
      if (std::find(types.begin(), types.end(), value) == types.end()) {
        return Fail(Code::kInvalidArgument,
                    "no document type \"" + value + "\"; use one of " + Join(types, ", "));
      }
      // The fields are read again from the text, as the new type has them.
      // The text is a logged read like any other.
      CU_ASSIGN_OR_RETURN(std::string text, vault.ReadText(id, "review type"));
      step.old_value = c.type;
      step.new_value = value;
      c = classify::ClassifyAs(value, text);
      values = classify::ToJson(c);
      break;
    }
    case ReviewAction::kApprove: {
      std::vector<std::string> why = Unapprovable(c);
      if (!why.empty()) {
        return Fail(Code::kFailedPrecondition,
                    id + " cannot be approved: " + Join(why, "; ") +
                        ". Correct it first: custodia review set " + id + " FIELD VALUE");
      }
      status = "approved";
      break;
    }
  }
  const std::string type = action == ReviewAction::kSetType ? value : c.type;
  CU_TRY(vault.Review(id, action, action == ReviewAction::kSetField ? field : "", type, status,
                      values));
  CU_ASSIGN_OR_RETURN(record, vault.Find(id));
  const vault::ReviewEvent& made = record.reviews.back();
  step.at = FormatUtc(made.micros);
  step.actor = made.actor;
  step.status = status;
  steps.push_back(std::move(step));
  c.type = record.type;
  c.status = record.status;
  if (c.status == "approved") c.reasons.clear();

  // The decision is durable; the index is a projection that follows it.
  Status relabelled = index.Relabel(detail::IndexDoc(record, "", c, detail::OnLoan(vault, id)));
  if (relabelled) relabelled = index.Commit();
  if (!relabelled) {
    return Wrap(relabelled.error(), "the decision on " + id +
                                        " is recorded in the ledger, but the index did not "
                                        "follow; run the command again or rebuild the index");
  }
  return detail::ToDocument(record, c, std::move(steps));
}

Result<Document> Archive::ReviewSet(const std::string& id, const std::string& field,
                                    const std::string& value) {
  std::lock_guard lock(impl_->mu);
  return impl_->Decide(id, ReviewAction::kSetField, field, value);
}

Result<Document> Archive::ReviewType(const std::string& id, const std::string& type) {
  std::lock_guard lock(impl_->mu);
  return impl_->Decide(id, ReviewAction::kSetType, "", type);
}

Result<Document> Archive::ReviewApprove(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  return impl_->Decide(id, ReviewAction::kApprove, "", "");
}

Status Archive::Impl::LoadModel() {
  const fs::path file = dir / kModelFile;
  model.reset();
  if (!Env::Default()->Exists(file)) return Ok();
  auto bytes = Env::Default()->ReadFile(file);
  if (!bytes) return Wrap(bytes.error(), "type model");
  auto loaded = classify::LoadModel(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!loaded) {
    return Fail(Code::kCorruption, file.string() + ": " + loaded.error().message +
                                       "; run `custodia train` again, or remove the file to "
                                       "use the default model");
  }
  model = std::move(loaded).value();
  return Ok();
}

Result<TrainSummary> Archive::Train(const std::vector<std::string>& folders, int weight) {
  std::lock_guard lock(impl_->mu);
  TrainSummary summary;
  std::vector<classify::Example> examples;
  const std::vector<std::string>& types = classify::DocumentTypes();
  auto trainable = [&](const std::string& type) {
    return type != "otro" && std::find(types.begin(), types.end(), type) != types.end();
  };
  // The archive's documents whose type a person decided.
  std::vector<std::string> ids;
  std::vector<std::string> id_types;
  for (const vault::Record& r : impl_->vault.List()) {
    const bool typed = std::any_of(r.reviews.begin(), r.reviews.end(), [](const auto& ev) {
      return ev.action == ReviewAction::kSetType;
    });
    if ((typed || r.status == "approved") && trainable(r.type)) {
      ids.push_back(r.id);
      id_types.push_back(r.type);
    }
  }
  if (!ids.empty()) {
    CU_ASSIGN_OR_RETURN(std::vector<std::string> texts, impl_->vault.ReadTexts(ids, "train"));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      examples.push_back({id_types[i], std::move(texts[i])});
      ++summary.per_type[id_types[i]];
    }
    summary.from_archive = static_cast<int>(ids.size());
  }
  // Labelled texts: FOLDER/TYPE/*.txt.
  for (const std::string& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      return Fail(Code::kInvalidArgument,
                  folder + ": not a folder; give folders holding one folder per type "
                           "(factura/, dni/, ...) of .txt files");
    }
    std::vector<fs::path> files;
    for (const auto& sub : fs::directory_iterator(folder, ec)) {
      if (!sub.is_directory()) continue;
      const std::string type = sub.path().filename().string();
      if (!trainable(type)) {
        return Fail(Code::kInvalidArgument,
                    sub.path().string() + ": \"" + type + "\" is not a type to learn; name " +
                        "the folders after the types (factura, dni, justificante_bancario, "
                        "nomina, contrato, reclamacion, albaran)");
      }
      for (const auto& f : fs::directory_iterator(sub.path(), ec)) {
        if (f.is_regular_file() && f.path().extension() == ".txt") files.push_back(f.path());
      }
    }
    if (ec) return Fail(Code::kIo, folder + ": " + ec.message());
    std::sort(files.begin(), files.end());  // the same folders give the same model
    for (const fs::path& f : files) {
      CU_ASSIGN_OR_RETURN(Bytes bytes, Env::Default()->ReadFile(f));
      const std::string type = f.parent_path().filename().string();
      examples.push_back({type, std::string(bytes.begin(), bytes.end())});
      ++summary.per_type[type];
      ++summary.from_folders;
    }
  }
  if (examples.empty()) {
    return Fail(Code::kFailedPrecondition,
                "nothing to learn from: no document's type was decided in review (custodia "
                "review type / approve) and no labelled folder was given");
  }
  CU_ASSIGN_OR_RETURN(std::string model, classify::ExtendDefaultModel(examples, weight));
  const fs::path file = impl_->dir / kModelFile;
  CU_TRY(Env::Default()->CreateDir(file.parent_path()));
  CU_TRY(Env::Default()->WriteFileAtomic(
      file, {reinterpret_cast<const std::uint8_t*>(model.data()), model.size()}));
  CU_TRY(impl_->LoadModel());
  summary.model = file.string();
  return summary;
}

Result<Report> Archive::MakeReport(std::int64_t since_micros) {
  CU_ASSIGN_OR_RETURN(ReviewPolicy policy, Policy());
  std::lock_guard lock(impl_->mu);
  const std::int64_t now = Env::Default()->NowMicros();
  Report report;
  if (since_micros > 0) report.since = FormatUtc(since_micros);
  std::vector<double> queue_ages;
  std::int64_t first = 0, last = 0;
  for (const vault::Record& r : impl_->vault.List()) {
    const auto due =
        r.sealed_micros + static_cast<std::int64_t>(DueHours(policy, r.type) * kMicrosPerHour);
    // The queue is as it stands now, whenever its documents were sealed.
    if (r.status == "review") {
      ++report.queue;
      queue_ages.push_back(static_cast<double>(now - r.sealed_micros) / kMicrosPerHour);
      if (now > due) ++report.overdue;
    }
    if (r.sealed_micros < since_micros) continue;
    ++report.documents;
    report.pages += r.pages;
    if (first == 0) first = r.sealed_micros;
    last = r.sealed_micros;
    bool corrected = false, typed = false;
    std::set<std::string> fields;
    for (const vault::ReviewEvent& ev : r.reviews) {
      if (ev.action == ReviewAction::kSetField) {
        corrected = true;
        fields.insert(ev.field);
      }
      if (ev.action == ReviewAction::kSetType) typed = true;
      if (ev.action == ReviewAction::kApprove && ev.micros > due) ++report.approved_late;
    }
    for (TypeFigures* f : {&report.all, &report.by_type[r.type]}) {
      ++f->documents;
      if (r.sealed_status == "auto" && r.reviews.empty()) ++f->automated;
      if (corrected) ++f->corrected;
      if (typed) ++f->typed_by_hand;
      if (r.status == "review") ++f->waiting;
      for (const std::string& name : fields) ++f->fields_corrected[name];
    }
  }
  if (!queue_ages.empty()) {
    std::sort(queue_ages.begin(), queue_ages.end());
    report.queue_oldest_hours = queue_ages.back();
    const std::size_t n = queue_ages.size();
    report.queue_median_hours =
        n % 2 == 1 ? queue_ages[n / 2] : (queue_ages[n / 2 - 1] + queue_ages[n / 2]) / 2;
  }
  const double span_hours = static_cast<double>(last - first) / kMicrosPerHour;
  if (span_hours >= 1.0 / 60) report.pages_per_hour = report.pages / span_hours;
  return report;
}

}  // namespace custodia::pipeline
