// classify/classify.cc: type, fields and route of a document (classify.h).
#include "classify/classify.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <utility>

#include "classify/classifier.h"
#include "classify/extract.h"

namespace custodia::classify {
namespace {

using nlohmann::json;

std::string Percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", x * 100);
  return buf;
}

// A string as JSON keeps it: invalid UTF-8 would make dump() throw, so
// such bytes become U+FFFD.
json Text(const std::string& s) { return json(s); }

std::string Dump(const json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace

const std::vector<std::string>& FieldsOf(std::string_view type) { return FieldNames(type); }

void Route(Classification* c, const RoutingPolicy& policy) {
  c->reasons.clear();
  if (c->type == "otro" || FieldsOf(c->type).empty()) {
    c->reasons.push_back(c->type == "otro" ? "type not recognised (otro)"
                                           : "type " + c->type + " has no extractor");
  } else if (c->type_confidence < policy.min_type_confidence) {
    c->reasons.push_back("type " + c->type + " only " + Percent(c->type_confidence) +
                         " sure (auto needs " + Percent(policy.min_type_confidence) + ")");
  }
  for (const std::string& name : FieldsOf(c->type)) {
    auto it = c->fields.find(name);
    if (it == c->fields.end()) {
      c->reasons.push_back(name + ": not found");
      continue;
    }
    const Field& f = it->second;
    if (!f.valid) {
      c->reasons.push_back(name + ": " + (f.reason.empty() ? "not valid" : f.reason));
    } else if (f.confidence < policy.min_field_confidence) {
      c->reasons.push_back(name + ": read with " + Percent(f.confidence) + " confidence" +
                           (f.reason.empty() ? "" : " (" + f.reason + ")"));
    }
  }
  c->status = c->reasons.empty() ? "auto" : "review";
}

Classification Classify(std::string_view text, const std::vector<OcrWord>& words,
                        const TypeModel* model, const RoutingPolicy& policy) {
  const TypeModel& m = model != nullptr ? *model : TypeModel::Default();
  TypeModel::Prediction p = m.Predict(text);
  Classification c;
  c.type = p.type;
  c.type_confidence = p.confidence;
  if (!FieldsOf(c.type).empty()) {
    std::vector<WordConfidence> ocr;
    ocr.reserve(words.size());
    for (const OcrWord& w : words) ocr.push_back(WordConfidence{w.text, w.confidence});
    Extraction e = ExtractFields(c.type, text, ocr);  // cross-field checks included
    for (auto& [name, x] : e.fields) {
      Field f;
      f.value = std::move(x.value);
      f.confidence = x.confidence;
      f.valid = x.valid;
      f.reason = std::move(x.reason);
      f.raw = std::move(x.raw);
      for (const Substitution& s : x.repairs) {
        f.repairs.push_back(std::to_string(s.position) + ": " + s.from + " -> " + s.to);
      }
      c.fields.emplace(name, std::move(f));
    }
  }
  Route(&c, policy);
  return c;
}

std::string ToJson(const Classification& c) {
  json fields = json::object();
  for (const auto& [name, f] : c.fields) {
    json j = {{"value", Text(f.value)}, {"confidence", f.confidence}, {"valid", f.valid}};
    if (!f.reason.empty()) j["reason"] = Text(f.reason);
    if (!f.raw.empty() && f.raw != f.value) j["raw"] = Text(f.raw);
    if (!f.repairs.empty()) j["repairs"] = f.repairs;
    fields[name] = std::move(j);
  }
  json reasons = json::array();
  for (const std::string& r : c.reasons) reasons.push_back(Text(r));
  return Dump(json{{"type_confidence", c.type_confidence}, {"reasons", reasons}, {"fields", fields}});
}

Classification FromJson(std::string_view type, std::string_view status, std::string_view text) {
  Classification c;
  c.type = type;
  c.status = status;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return c;
  if (auto it = j.find("type_confidence"); it != j.end() && it->is_number())
    c.type_confidence = it->get<double>();
  if (auto it = j.find("reasons"); it != j.end() && it->is_array()) {
    for (const json& r : *it)
      if (r.is_string()) c.reasons.push_back(r.get<std::string>());
  }
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_object()) return c;
  for (const auto& [name, v] : fields->items()) {
    if (!v.is_object()) continue;
    Field f;
    if (auto it = v.find("value"); it != v.end() && it->is_string()) f.value = it->get<std::string>();
    if (auto it = v.find("confidence"); it != v.end() && it->is_number())
      f.confidence = it->get<double>();
    if (auto it = v.find("valid"); it != v.end() && it->is_boolean()) f.valid = it->get<bool>();
    if (auto it = v.find("reason"); it != v.end() && it->is_string()) f.reason = it->get<std::string>();
    if (auto it = v.find("raw"); it != v.end() && it->is_string()) f.raw = it->get<std::string>();
    if (auto it = v.find("repairs"); it != v.end() && it->is_array()) {
      for (const json& r : *it)
        if (r.is_string()) f.repairs.push_back(r.get<std::string>());
    }
    c.fields.emplace(name, std::move(f));
  }
  return c;
}

}  // namespace custodia::classify
