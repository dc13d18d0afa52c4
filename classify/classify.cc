// classify/classify.cc: type, fields and route of a document (classify.h).
#include "classify/classify.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "classify/classifier.h"
#include "classify/extract.h"
#include "classify/validate.h"

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

// Reads the fields of c->type from `text` and routes `c`: Classify and
// ClassifyAs differ only in where the type comes from.
void ExtractAndRoute(Classification* c, std::string_view text, const std::vector<OcrWord>& words,
                     const RoutingPolicy& policy) {
  if (!FieldsOf(c->type).empty()) {
    std::vector<WordConfidence> ocr;
    ocr.reserve(words.size());
    for (const OcrWord& w : words) ocr.push_back(WordConfidence{w.text, w.confidence});
    Extraction e = ExtractFields(c->type, text, ocr);  // cross-field checks included
    for (auto& [name, x] : e.fields) {
      Field f;
      f.value = std::move(x.value);
      f.confidence = x.confidence;
      f.valid = x.valid;
      f.reason = std::move(x.reason);
      f.raw = std::move(x.raw);
      f.doubted = x.doubted;
      for (const Substitution& s : x.repairs) {
        f.repairs.push_back(std::to_string(s.position) + ": " + s.from + " -> " + s.to);
      }
      c->fields.emplace(name, std::move(f));
    }
  }
  Route(c, policy);
}

// ---------------------------------------------------------------------------
// Corrections

// The most a person types for one field; more is a paste gone wrong.
constexpr std::size_t kMaxCorrection = 256;
// The most of a caller's type or field name that a message repeats.
constexpr std::size_t kMaxNameShown = 40;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A type or field name as the caller gave it, quoted and safe to print
// (it may be any bytes): printable ASCII as is, other bytes as \xNN.
std::string Escape(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxNameShown; ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') {
      out.push_back(s[i]);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(b));
      out += buf;
    }
  }
  return out + (s.size() > kMaxNameShown ? "...\"" : "\"");
}

// Well-formed UTF-8: no stray continuation bytes, overlong forms,
// surrogates or code points past U+10FFFF.
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t n;  // continuation bytes
    if (b < 0x80) {
      n = 0;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (n >= s.size() - i) return false;  // cut short
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    for (std::size_t k = 1; k <= n; ++k) {
      if ((at(k) & 0xC0) != 0x80) return false;
    }
    if (b == 0xE0 && at(1) < 0xA0) return false;  // overlong
    if (b == 0xED && at(1) > 0x9F) return false;  // surrogate
    if (b == 0xF0 && at(1) < 0x90) return false;  // overlong
    if (b == 0xF4 && at(1) > 0x8F) return false;  // past U+10FFFF
    i += n + 1;
  }
  return true;
}

// C0 controls other than whitespace, DEL, and C1 controls (U+0080..U+009F):
// nothing a person means to type. REQUIRES: IsUtf8(s).
bool HasControl(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if ((b < 0x20 && !IsSpace(s[i])) || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

// Trimmed, each run of whitespace (no-break spaces included) one ' '.
std::string CollapseSpaces(std::string_view s) {
  std::string out;
  bool gap = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool space = IsSpace(s[i]);
    if (!space && s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
      space = true;
      ++i;
    }
    if (space) {
      gap = !out.empty();
      continue;
    }
    if (gap) out.push_back(' ');
    gap = false;
    out.push_back(s[i]);
  }
  return out;
}

// "12/03/2024", "2024-3-12": three numbers split by '/', '-' or '.', so
// a date in form; if it does not canonicalise, no such day exists.
bool LooksLikeNumericDate(std::string_view s) {
  int groups = 0;
  std::size_t digits = 0;
  for (char c : s) {
    if (IsDigit(c)) {
      if (digits++ == 0) ++groups;
      if (digits > 4) return false;
    } else if ((c == '/' || c == '-' || c == '.') && digits > 0) {
      digits = 0;
    } else if (c != ' ') {
      return false;
    }
  }
  return groups == 3 && digits > 0;
}

// The validator's reason without its kind ("iban: mod-97 check fails" ->
// "mod-97 check fails"): the message names the field instead.
std::string WithoutKind(const std::string& reason) {
  std::size_t colon = reason.find(": ");
  return colon == std::string::npos ? reason : reason.substr(colon + 2);
}

// "21", "21 %", "10,5%", "10.50" -> "21", "21", "10.5", "10.5", as
// extract.cc writes iva_pct; nullopt if no such number.
std::optional<std::string> CanonicalisePercent(std::string_view s) {
  if (!s.empty() && s.back() == '%') s.remove_suffix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == 0 || i > 3) return std::nullopt;
  std::string whole(s.substr(0, i));
  std::string fraction;
  if (i < s.size()) {
    if (s[i] != ',' && s[i] != '.') return std::nullopt;
    fraction = std::string(s.substr(i + 1));
    if (fraction.empty() || fraction.size() > 2) return std::nullopt;
    for (char c : fraction) {
      if (!IsDigit(c)) return std::nullopt;
    }
  }
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return fraction.empty() ? whole : whole + "." + fraction;
}

// The canonical form of `text` (trimmed and collapsed, valid UTF-8, no
// controls) as a value of `kind`, or the message that says what is wrong
// and what to type, without the field name.
Result<std::string> Canonical(FieldKind kind, const std::string& text) {
  const std::string quoted = "\"" + text + "\"";
  auto fail = [](std::string what) { return Fail(Code::kInvalidArgument, std::move(what)); };
  auto id = [&](IdKind id_kind, const char* what) -> Result<std::string> {
    Verdict v = Validate(id_kind, text);
    if (!v.ok()) {
      return fail(WithoutKind(v.reason) + " (" + text + "); type the " + what + " as printed");
    }
    return *CanonicaliseId(id_kind, text);
  };
  switch (kind) {
    case FieldKind::kDate:
      if (auto date = CanonicaliseDate(text)) return *date;
      if (LooksLikeNumericDate(text)) {
        return fail(quoted + " is not a real date; write it as YYYY-MM-DD");
      }
      return fail(quoted + " is not a date; write it as YYYY-MM-DD or DD/MM/YYYY");
    case FieldKind::kAmount:
      if (auto amount = CanonicaliseAmount(text)) return *amount;
      return fail(quoted + " is not an amount; write it as 1234.56 or 1.234,56");
    case FieldKind::kTaxId:
      return id(IdKind::kNif, "NIF, NIE or CIF");
    case FieldKind::kIban:
      return id(IdKind::kIban, "IBAN");
    case FieldKind::kCups:
      return id(IdKind::kCups, "CUPS");
    case FieldKind::kPeriod:
      if (auto period = CanonicalisePeriod(text)) return *period;
      return fail(quoted + " is not a month; write it as YYYY-MM or MM/YYYY");
    case FieldKind::kPercent: {
      auto pct = CanonicalisePercent(text);
      if (!pct) {
        return fail(quoted + " is not a percentage; write it as a number such as 21 or 10,5");
      }
      if (!IsSpanishVatRate(*pct)) {
        return fail(*pct +
                    " is not a Spanish VAT rate (0, 4, 5, 7, 8, 10, 16, 18, 21); "
                    "type the rate as printed");
      }
      return *pct;
    }
    case FieldKind::kName: {
      // The extractor's rule: letters, spaces, hyphens, apostrophes.
      std::string name = UpperCase(text);
      bool ok = name.size() >= 2;
      for (std::size_t i = 0; ok && i < name.size(); ++i) {
        char ch = name[i];
        ok = (ch >= 'A' && ch <= 'Z') || ch == ' ' || ch == '-' || ch == '\'' ||
             static_cast<unsigned char>(ch) >= 0x80;
      }
      if (!ok) {
        return fail(quoted + " is not a name; type letters, spaces, hyphens and apostrophes only");
      }
      return name;
    }
    case FieldKind::kRef:
      return text;  // as printed, like the extractor
  }
  return fail("cannot be corrected here");
}

// CheckConsistency appends the reason of a broken rule to each of its
// fields with "; ", and that reason starts with the document type
// ("factura: base + iva is ..."), never a field name as a field's own
// reason does. It marks only fields that were valid.
constexpr std::string_view kReasonSeparator = "; ";

bool IsRuleReason(std::string_view part) {
  for (const std::string& type : DocumentTypes()) {
    if (part.size() > type.size() + 1 && part.substr(0, type.size()) == type &&
        part.substr(type.size(), 2) == ": ") {
      return true;
    }
  }
  return false;
}

// Undoes what CheckConsistency did to `f`: drops the rule reasons and, if
// there were any, makes it valid again (the rules mark only valid fields).
void ForgetRules(Field* f) {
  if (f->valid || f->reason.empty()) return;
  std::string kept;
  bool dropped = false;
  std::string_view rest = f->reason;
  while (true) {
    std::size_t end = rest.find(kReasonSeparator);
    std::string_view part = rest.substr(0, end);
    if (IsRuleReason(part)) {
      dropped = true;
    } else {
      kept += (kept.empty() ? "" : std::string(kReasonSeparator)) + std::string(part);
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + kReasonSeparator.size());
  }
  if (!dropped) return;
  f->valid = true;
  f->reason = std::move(kept);
}

}  // namespace

const std::vector<std::string>& DocumentTypes() {
  static const std::vector<std::string> kTypes = {
      "factura",     "dni",     "justificante_bancario", "nomina", "contrato",
      "reclamacion", "albaran", std::string(kOtherType)};
  return kTypes;
}

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
      // The validator names its kind ("iban: mod-97 check fails"): the
      // field's name is said once.
      const std::string why = f.reason.empty() ? "not valid" : f.reason;
      c->reasons.push_back(why.starts_with(name + ": ") ? why : name + ": " + why);
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
  ExtractAndRoute(&c, text, words, policy);
  return c;
}

Result<std::string> ExtendDefaultModel(const std::vector<Example>& examples, int weight) {
  std::vector<LabelledText> labelled;
  labelled.reserve(examples.size());
  for (const Example& e : examples) {
    if (e.type == kOtherType) {
      return Fail(Code::kInvalidArgument,
                  "train: \"otro\" is what the model answers when unsure; it is not learnt");
    }
    labelled.push_back({e.type, e.text});
  }
  CU_ASSIGN_OR_RETURN(TypeModel model, TypeModel::Default().Extend(labelled, weight));
  return model.Serialize();
}

Result<std::shared_ptr<const TypeModel>> LoadModel(std::string_view bytes) {
  CU_ASSIGN_OR_RETURN(TypeModel model, TypeModel::Parse(bytes));
  return std::shared_ptr<const TypeModel>(std::make_shared<TypeModel>(std::move(model)));
}

Classification ClassifyAs(std::string_view type, std::string_view text,
                          const std::vector<OcrWord>& words, const RoutingPolicy& policy) {
  Classification c;
  c.type = type;
  c.type_confidence = 1.0;  // a person chose it
  ExtractAndRoute(&c, text, words, policy);
  return c;
}

Result<Field> ParseCorrection(std::string_view type, std::string_view field,
                              std::string_view value) {
  const std::vector<std::string>& names = FieldsOf(type);
  if (names.empty()) {
    std::vector<std::string> with_fields;
    for (const std::string& t : DocumentTypes()) {
      if (!FieldsOf(t).empty()) with_fields.push_back(t);
    }
    return Fail(Code::kInvalidArgument,
                "type " + Escape(type) + " has no fields to correct; the types with fields are " +
                    Join(with_fields));
  }
  std::optional<FieldKind> kind = KindOf(type, field);
  if (!kind) {
    return Fail(Code::kInvalidArgument, Escape(field) + " is not a field of " + std::string(type) +
                                            "; its fields are " + Join(names));
  }
  const std::string name(field);
  auto fail = [&name](const std::string& what) {
    return Fail(Code::kInvalidArgument, name + ": " + what);
  };
  if (value.size() > kMaxCorrection) {
    return fail(std::to_string(value.size()) + " bytes typed, at most " +
                std::to_string(kMaxCorrection) + " are accepted; type the value alone");
  }
  if (!IsUtf8(value)) return fail("not valid UTF-8; type the value again");
  if (HasControl(value)) return fail("holds a control character; type the value again");
  const std::string text = CollapseSpaces(value);
  if (text.empty()) return fail("nothing typed; type the value as printed");
  Result<std::string> canonical = Canonical(*kind, text);
  if (!canonical) return Wrap(canonical.error(), name);
  Field f;
  f.value = std::move(canonical).value();
  f.confidence = 1.0;
  f.valid = true;
  f.raw = std::string(value);
  return f;
}

void Revalidate(Classification* c, const RoutingPolicy& policy) {
  for (auto& entry : c->fields) ForgetRules(&entry.second);
  std::map<std::string, ExtractedField> fields;
  for (const auto& [name, f] : c->fields) {
    ExtractedField e;
    e.value = f.value;
    e.confidence = f.confidence;
    e.valid = f.valid;
    e.reason = f.reason;
    fields.emplace(name, std::move(e));
  }
  // The reasons it returns are on the fields too, where Route reads them.
  CheckConsistency(c->type, &fields);
  for (auto& [name, f] : c->fields) {
    const ExtractedField& e = fields.at(name);
    f.valid = e.valid;
    f.reason = e.reason;
    f.confidence = e.confidence;  // amounts the rules confirm are surer
  }
  Route(c, policy);
}

void Confirm(Classification* c, const Classification& second, const RoutingPolicy& policy) {
  if (second.type != c->type) return;
  // Two readings that differ: at most a doubted value's confidence
  // (docs/extraction.md), so a person always looks.
  constexpr double kDisagreeFactor = 0.6;
  constexpr double kDisagreeMost = 0.5;
  const auto append = [](Field* f, const std::string& why) {
    f->reason += (f->reason.empty() ? "" : std::string(kReasonSeparator)) + why;
  };
  for (const std::string& name : FieldsOf(c->type)) {
    auto b_it = second.fields.find(name);
    // A field the second reading read invalid, or whose cross-field rule
    // broke there (its amounts do not add up), settles nothing.
    if (b_it == second.fields.end() || !b_it->second.valid) continue;
    const Field& b = b_it->second;
    auto a_it = c->fields.find(name);
    if (a_it == c->fields.end()) {
      Field taken = b;
      append(&taken, "from a second reading");
      c->fields[name] = std::move(taken);
      continue;
    }
    Field& a = a_it->second;
    Field alone = a;  // as its own validator reads it, without the rules
    ForgetRules(&alone);
    if (alone.valid && a.value == b.value) {
      ForgetRules(&a);
      if (a.doubted && b.doubted) continue;
      a.confidence = std::clamp(1 - (1 - a.confidence) * (1 - b.confidence), 0.0, 1.0);
      a.doubted = false;
      append(&a, "confirmed by a second reading");
      continue;
    }
    if (!a.valid) {
      // Invalid in the first reading (its check, or its amounts did not
      // add up there), valid in the second.
      Field taken = b;
      append(&taken, "from a second reading");
      a = std::move(taken);
      continue;
    }
    // A second reading the reader itself doubts (it lost an accent the
    // first kept: BENITEZ for BENÍTEZ) says nothing against the first.
    if (b.doubted && !a.doubted) continue;
    const std::string other = b.confidence > a.confidence ? a.value : b.value;
    if (b.confidence > a.confidence) a = b;
    a.confidence = std::min(a.confidence * kDisagreeFactor, kDisagreeMost);
    append(&a, "a second reading gives " + other);
  }
  Revalidate(c, policy);
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
