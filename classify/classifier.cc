// classify/classifier.cc: naive Bayes document-type classifier (issue 5).
// Features, calibration and model format: docs/classifier.md.
#include "classify/classifier.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace custodia::classify {

// Defined in the file generated from classify/model/default.model.
extern const char kDefaultModelText[];
extern const std::size_t kDefaultModelSize;

namespace {

constexpr std::string_view kMagic = "custodia-type-model";
constexpr int kVersion = 1;
constexpr double kSmoothing = 0.1;  // additive smoothing of the counts
constexpr std::size_t kMaxFeatures = 30000;
constexpr std::uint32_t kMinDocs = 2;  // a feature must be in this many docs
constexpr int kNoisyCopies = 2;        // synthetic OCR copies per example
constexpr double kMinLetters = 40;
constexpr double kThreshold = 0.5;

// ---------------------------------------------------------------------------
// Text normalisation: lower case, accents folded, digit runs -> '0'.

// Folds a code point of Latin-1 Supplement / Latin Extended-A to an ASCII
// letter, or returns 0 when it is not a letter we fold.
char FoldLatin(std::uint32_t cp) {
  static constexpr char kLatin1[] =  // U+00C0..U+00FF
      "aaaaaaaceeeeiiii"             // C0..CF
      "dnooooo\0ouuuuyts"            // D0..DF (D7 multiplication sign)
      "aaaaaaaceeeeiiii"             // E0..EF
      "dnooooo\0ouuuuyty";           // F0..FF (F7 division sign)
  if (cp >= 0xC0 && cp <= 0xFF) return kLatin1[cp - 0xC0];
  if (cp >= 0x100 && cp <= 0x17F) {  // Latin Extended-A: base letters in order
    static constexpr char kExtA[] =
        "aaaaaaccccccccdddd"
        "eeeeeeeeeegggggggghhhhiiiiiiiiiijjjjkkk"
        "lllllllllnnnnnnnnnoooooooorrrrrrssssssss"
        "ttttttuuuuuuuuuuuuwwyyyzzzzzzs";
    std::size_t i = cp - 0x100;
    return i < sizeof(kExtA) - 1 ? kExtA[i] : 0;
  }
  return 0;
}

// Decodes one UTF-8 sequence at text[i]; returns the code point (or
// 0xFFFD for an invalid byte) and advances i.
std::uint32_t NextCodePoint(std::string_view text, std::size_t& i) {
  auto b = static_cast<unsigned char>(text[i++]);
  if (b < 0x80) return b;
  int extra = b >= 0xF0 && b < 0xF5 ? 3 : b >= 0xE0 ? 2 : b >= 0xC2 && b < 0xE0 ? 1 : -1;
  if (extra < 0 || b >= 0xF5) return 0xFFFD;
  std::uint32_t cp = b & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= text.size()) return 0xFFFD;
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (c & 0x3F);
    ++i;
  }
  return cp;
}

struct Tokens {
  std::vector<std::string> words;  // [a-z0<]+
  std::size_t letters = 0;
};

Tokens Tokenize(std::string_view text) {
  Tokens out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.words.push_back(std::move(word));
    word.clear();
  };
  std::size_t i = 0;
  while (i < text.size() && out.words.size() < static_cast<std::size_t>(TypeModel::kMaxTokens)) {
    std::uint32_t cp = NextCodePoint(text, i);
    char c = 0;
    if (cp >= 'A' && cp <= 'Z')
      c = static_cast<char>(cp - 'A' + 'a');
    else if (cp >= 'a' && cp <= 'z')
      c = static_cast<char>(cp);
    else if (cp >= '0' && cp <= '9')
      c = '0';
    else if (cp == '<')
      c = '<';
    else if (cp >= 0xC0)
      c = FoldLatin(cp);
    if (c == 0) {
      flush();
      continue;
    }
    if ((c == '0' || c == '<') && !word.empty() && word.back() == c) continue;  // runs
    if (c >= 'a' && c <= 'z') ++out.letters;
    word.push_back(c);
    if (word.size() > 40) flush();  // no real word is longer; bounds n-grams
  }
  flush();
  return out;
}

// The distinct features of a text: word unigrams "w:", bigrams "b:" and
// character 3-5-grams of each word with boundary marks "c:".
std::vector<std::string> Features(const Tokens& tokens) {
  std::unordered_set<std::string> seen;
  std::vector<std::string> out;
  auto add = [&](std::string f) {
    if (seen.insert(f).second) out.push_back(std::move(f));
  };
  const auto& w = tokens.words;
  for (std::size_t i = 0; i < w.size(); ++i) {
    add("w:" + w[i]);
    if (i + 1 < w.size()) add("b:" + w[i] + "_" + w[i + 1]);
    if (w[i].size() < 3) continue;
    std::string padded = "^" + w[i] + "$";
    for (std::size_t n = 3; n <= 5; ++n)
      for (std::size_t s = 0; s + n <= padded.size(); ++s) add("c:" + padded.substr(s, n));
  }
  return out;
}

bool ValidFeature(std::string_view f) {
  if (f.size() < 3 || f[1] != ':' || (f[0] != 'w' && f[0] != 'b' && f[0] != 'c')) return false;
  for (char c : f.substr(2))
    if (!((c >= 'a' && c <= 'z') || c == '0' || c == '<' || c == '^' || c == '$' || c == '_'))
      return false;
  return true;
}

bool ValidTypeName(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Synthetic OCR noise, deterministic (splitmix64).

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  bool Chance(double p) { return Uniform() < p; }
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(Next() % n); }

 private:
  std::uint64_t s_;
};

std::uint64_t Fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

}  // namespace

std::string AddOcrNoise(std::string_view text, std::uint64_t seed, int level) {
  Rng rng(seed);
  const double sub = level == 1 ? 0.02 : 0.06;
  const double space = level == 1 ? 0.02 : 0.05;
  const double junk = level == 1 ? 0.01 : 0.04;
  const double line_loss = level == 1 ? 0.03 : 0.15;
  static constexpr std::string_view kJunk[] = {"~", "|", "]", "a",  "»",  "—", "%;", "'",
                                               "i", ".", "l", "ee", "|)", "*", "_",  "¢"};
  static const std::map<std::string_view, std::string_view> kConfusions = {
      {"rn", "m"}, {"m", "rn"}, {"l", "1"}, {"1", "l"}, {"O", "0"}, {"0", "O"}, {"o", "0"},
      {"e", "c"},  {"c", "e"},  {"i", "l"}, {"S", "5"}, {"5", "S"}, {"B", "8"}, {"I", "l"},
      {"u", "ii"}, {"n", "ri"}, {"h", "b"}, {"a", "o"}, {"t", "f"}, {"E", "F"}, {"í", "i"},
      {"á", "a"},  {"é", "e"},  {"ó", "o"}, {"ú", "u"}, {"ñ", "n"}, {"Á", "A"}, {"É", "E"},
      {"Í", "I"},  {"Ó", "O"},  {"Ú", "U"}, {"Ñ", "N"}, {"ó", "6"}, {"é", "6"}};
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  bool drop_line = rng.Chance(line_loss);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      out.push_back(rng.Chance(space) ? ' ' : '\n');
      if (rng.Chance(0.2)) out.push_back('\n');
      drop_line = rng.Chance(line_loss);
      ++i;
      continue;
    }
    if (drop_line) {
      ++i;
      continue;
    }
    if (text[i] == ' ') {
      if (rng.Chance(junk)) {
        out.push_back(' ');
        out.append(kJunk[rng.Below(std::size(kJunk))]);
      }
      if (!rng.Chance(space)) out.push_back(rng.Chance(space) ? '\n' : ' ');
      ++i;
      continue;
    }
    if (rng.Chance(sub)) {
      bool done = false;
      for (std::size_t len : {2u, 1u}) {
        if (i + len > text.size()) continue;
        auto it = kConfusions.find(text.substr(i, len));
        if (it != kConfusions.end()) {
          out.append(it->second);
          i += len;
          done = true;
          break;
        }
      }
      if (done) continue;
      if (rng.Chance(0.3)) {  // dropped character
        std::size_t j = i;
        NextCodePoint(text, j);
        i = j;
        continue;
      }
    }
    if (rng.Chance(space / 3)) out.push_back(' ');  // a word broken in two
    std::size_t j = i;
    NextCodePoint(text, j);
    out.append(text.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

void AppendDouble(std::string& out, double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

template <class T>
bool ParseNumber(std::string_view s, T& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

// ---------------------------------------------------------------------------

struct TypeModel::Impl {
  std::vector<std::string> types;
  std::vector<std::uint32_t> docs;                                    // per type
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> df;  // docs per type
  double sharpness = 1;
  double min_letters = kMinLetters;
  double min_coverage = 0;
  double threshold = kThreshold;

  // Derived by Finish().
  std::unordered_map<std::string_view, std::vector<double>> log_p;  // keys point into df

  void Finish() {
    const std::size_t k = types.size();
    std::vector<double> total(k, 0);
    for (const auto& [f, counts] : df)
      for (std::size_t c = 0; c < k; ++c) total[c] += counts[c];
    const double v = static_cast<double>(df.size());
    log_p.clear();
    log_p.reserve(df.size());
    for (const auto& [f, counts] : df) {
      std::vector<double> lp(k);
      for (std::size_t c = 0; c < k; ++c)
        lp[c] = std::log((counts[c] + kSmoothing) / (total[c] + kSmoothing * v));
      log_p.emplace(std::string_view(f), std::move(lp));
    }
  }

  struct Scores {
    std::vector<double> log_likelihood;  // per type, summed over known features
    std::size_t known = 0, letters = 0;
    std::size_t known_words = 0, distinct_words = 0;  // "w:" and "b:" only
  };
  Scores Score(std::string_view text) const {
    Scores s;
    s.log_likelihood.assign(types.size(), 0);
    Tokens tokens = Tokenize(text);
    s.letters = tokens.letters;
    for (const std::string& f : Features(tokens)) {
      bool word = f[0] != 'c';
      s.distinct_words += word;
      auto it = log_p.find(f);
      if (it == log_p.end()) continue;
      ++s.known;
      s.known_words += word;
      for (std::size_t c = 0; c < types.size(); ++c) s.log_likelihood[c] += it->second[c];
    }
    return s;
  }

  Prediction Decide(const Scores& s) const {
    const std::size_t k = types.size();
    std::vector<double> p(k, 1.0 / static_cast<double>(k));
    if (s.known > 0) {
      double best = *std::max_element(s.log_likelihood.begin(), s.log_likelihood.end());
      double sum = 0;
      for (std::size_t c = 0; c < k; ++c) {
        p[c] = std::exp(sharpness * (s.log_likelihood[c] - best) / static_cast<double>(s.known));
        sum += p[c];
      }
      for (double& x : p) x /= sum;
    }
    Prediction out;
    for (std::size_t c = 0; c < k; ++c) out.ranked.emplace_back(types[c], p[c]);
    std::stable_sort(out.ranked.begin(), out.ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    // Familiarity: too few letters, or too few known words and word pairs
    // (garbage, or text of a kind never trained), scale the posterior down:
    // linearly from 1 at min_coverage to 0 at half of it.
    double coverage = s.distinct_words ? static_cast<double>(s.known_words) / s.distinct_words : 0;
    double familiar = std::min(1.0, static_cast<double>(s.letters) / min_letters);
    if (min_coverage > 0)
      familiar *= std::clamp((coverage - min_coverage / 2) / (min_coverage / 2), 0.0, 1.0);
    out.confidence = out.ranked.front().second * familiar;
    out.type = out.confidence >= threshold ? out.ranked.front().first : std::string(kOtherType);
    return out;
  }
};

const std::vector<std::string>& TypeModel::Types() const { return impl_->types; }

TypeModel::Prediction TypeModel::Predict(std::string_view text) const {
  return impl_->Decide(impl_->Score(text));
}

Result<TypeModel> TypeModel::Train(const std::vector<LabelledText>& examples) {
  auto impl = std::make_shared<Impl>();
  std::map<std::string, std::size_t> index;
  for (const auto& e : examples) {
    if (e.type == kOtherType)
      return Fail(Code::kInvalidArgument,
                  "classifier: \"otro\" is the answer for unknown text, not a type to train");
    if (!ValidTypeName(e.type))
      return Fail(Code::kInvalidArgument,
                  "classifier: type \"" + e.type + "\" is not [a-z0-9_]+ (at most 64)");
    index.emplace(e.type, 0);
  }
  if (index.size() < 2)
    return Fail(Code::kInvalidArgument,
                "classifier: training needs examples of two types at least");
  for (auto& [name, i] : index) {
    i = impl->types.size();
    impl->types.push_back(name);
  }
  const std::size_t k = impl->types.size();
  impl->docs.assign(k, 0);

  // Every example and its noisy copies, as feature lists (group = example).
  struct Doc {
    std::size_t type, group;
    std::vector<std::string> features;
    std::size_t letters;
  };
  std::vector<Doc> docs;
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> df;
  for (std::size_t g = 0; g < examples.size(); ++g) {
    const auto& e = examples[g];
    std::size_t t = index[e.type];
    for (int copy = 0; copy <= kNoisyCopies; ++copy) {
      std::string noisy;
      std::string_view text = e.text;
      if (copy > 0) {
        noisy = AddOcrNoise(e.text, Fnv1a(e.text) ^ (g * 0x9E3779B97F4A7C15ull) ^ copy, copy);
        text = noisy;
      }
      Tokens tokens = Tokenize(text);
      Doc d{t, g, Features(tokens), tokens.letters};
      for (const auto& f : d.features) {
        auto [it, fresh] = df.try_emplace(f);
        if (fresh) it->second.assign(k, 0);
        ++it->second[t];
      }
      ++impl->docs[t];
      docs.push_back(std::move(d));
    }
  }

  // Prune: features in kMinDocs documents at least, then the kMaxFeatures
  // most frequent (ties by name, so deterministic).
  std::vector<std::pair<std::uint32_t, const std::string*>> ranked;
  for (const auto& [f, counts] : df) {
    std::uint32_t n = 0;
    for (auto c : counts) n += c;
    if (n >= kMinDocs) ranked.emplace_back(n, &f);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  if (ranked.size() > kMaxFeatures) ranked.resize(kMaxFeatures);
  for (const auto& [n, f] : ranked) impl->df.emplace(*f, df.find(*f)->second);
  df.clear();
  impl->Finish();

  // Calibration on held-out scores: each heavy-noise copy is scored by the
  // model without its example's group (leave-one-out, exact for naive Bayes
  // by subtracting counts). The sharpness maximises the likelihood of the
  // right type; the coverage floor is a low percentile of these documents.
  std::vector<double> total(k, 0);
  for (const auto& [f, counts] : impl->df)
    for (std::size_t c = 0; c < k; ++c) total[c] += counts[c];
  const double v = static_cast<double>(impl->df.size());
  struct Held {
    std::vector<double> ll;
    std::size_t type, known = 0;
    double coverage = 0;  // of word features
  };
  std::vector<Held> held;
  std::vector<double> coverages;
  std::size_t start = 0;
  while (start < docs.size()) {
    std::size_t end = start;
    while (end < docs.size() && docs[end].group == docs[start].group) ++end;
    const std::size_t t = docs[start].type;
    // Counts of this group's features within type t.
    std::unordered_map<std::string_view, std::uint32_t> own;
    double own_total = 0;
    for (std::size_t d = start; d < end; ++d)
      for (const auto& f : docs[d].features)
        if (impl->df.count(f)) ++own[f], ++own_total;
    auto score = [&](const Doc& probe) {
      Held h{std::vector<double>(k, 0), t};
      std::size_t words = 0, known_words = 0;
      for (const auto& f : probe.features) {
        bool word = f[0] != 'c';
        words += word;
        auto it = impl->df.find(f);
        if (it == impl->df.end()) continue;
        double in_t = it->second[t] - own[f];
        double elsewhere = 0;
        for (std::size_t c = 0; c < k; ++c) elsewhere += c == t ? 0 : it->second[c];
        if (in_t <= 0 && elsewhere == 0) continue;  // only this example had it
        ++h.known;
        known_words += word;
        for (std::size_t c = 0; c < k; ++c) {
          double n = c == t ? in_t : it->second[c];
          double tot = c == t ? total[c] - own_total : total[c];
          h.ll[c] += std::log((n + kSmoothing) / (tot + kSmoothing * v));
        }
      }
      h.coverage = words ? static_cast<double>(known_words) / words : 0;
      return h;
    };
    // Both the sharpness and the coverage floor come from the heaviest copy.
    if (docs[start].letters >= kMinLetters) {
      Held heavy = score(docs[end - 1]);
      coverages.push_back(heavy.coverage);
      if (heavy.known > 0) held.push_back(std::move(heavy));
    }
    start = end;
  }
  double best_sharpness = 1, best_nll = INFINITY;
  for (double s = 0.25; s <= 64; s *= 1.189207115) {  // 2^(1/4) steps
    double nll = 0;
    for (const Held& h : held) {
      double m = *std::max_element(h.ll.begin(), h.ll.end());
      double sum = 0;
      for (double x : h.ll) sum += std::exp(s * (x - m) / h.known);
      nll -= s * (h.ll[h.type] - m) / h.known - std::log(sum);
    }
    if (nll < best_nll - 1e-9) best_nll = nll, best_sharpness = s;
  }
  impl->sharpness = best_sharpness;
  if (!coverages.empty()) {  // 2nd percentile: 98% of known documents are sure
    std::sort(coverages.begin(), coverages.end());
    impl->min_coverage = coverages[coverages.size() / 50];
  }
  TypeModel model;
  model.impl_ = std::move(impl);
  return model;
}

Result<TypeModel> TypeModel::Extend(const std::vector<LabelledText>& examples, int weight) const {
  if (weight < 1 || weight > 1000) {
    return Fail(Code::kInvalidArgument, "classifier: extend: weight must be 1..1000");
  }
  auto impl = std::make_shared<Impl>();
  impl->types = impl_->types;
  impl->docs = impl_->docs;
  impl->df = impl_->df;
  impl->sharpness = impl_->sharpness;
  impl->min_letters = impl_->min_letters;
  impl->min_coverage = impl_->min_coverage;
  impl->threshold = impl_->threshold;
  const std::size_t k = impl->types.size();
  for (std::size_t g = 0; g < examples.size(); ++g) {
    const LabelledText& e = examples[g];
    auto at = std::find(impl->types.begin(), impl->types.end(), e.type);
    if (at == impl->types.end()) {
      return Fail(Code::kInvalidArgument, "classifier: extend: type \"" + e.type +
                                              "\" is not one this model was trained on");
    }
    const auto t = static_cast<std::size_t>(at - impl->types.begin());
    // As Train counts an example: itself and its noisy copies, here each
    // `weight` times, so that a few corrections outweigh the generic
    // examples they contradict.
    for (int copy = 0; copy <= kNoisyCopies; ++copy) {
      std::string noisy;
      std::string_view text = e.text;
      if (copy > 0) {
        noisy = AddOcrNoise(e.text, Fnv1a(e.text) ^ (g * 0x9E3779B97F4A7C15ull) ^ copy, copy);
        text = noisy;
      }
      for (const auto& f : Features(Tokenize(text))) {
        auto [it, fresh] = impl->df.try_emplace(f);
        if (fresh) it->second.assign(k, 0);
        it->second[t] += static_cast<std::uint32_t>(weight);
      }
      impl->docs[t] += static_cast<std::uint32_t>(weight);
    }
  }
  impl->Finish();
  TypeModel model;
  model.impl_ = std::move(impl);
  return model;
}

std::string TypeModel::Serialize() const {
  const Impl& m = *impl_;
  std::string out;
  out.append(kMagic).append(" ").append(std::to_string(kVersion)).append("\n");
  out.append("types ").append(std::to_string(m.types.size())).append("\n");
  for (std::size_t c = 0; c < m.types.size(); ++c)
    out.append("type ")
        .append(m.types[c])
        .append(" ")
        .append(std::to_string(m.docs[c]))
        .append("\n");
  out.append("calibration ");
  AppendDouble(out, m.sharpness);
  out.append(" ");
  AppendDouble(out, m.min_letters);
  out.append(" ");
  AppendDouble(out, m.min_coverage);
  out.append(" ");
  AppendDouble(out, m.threshold);
  out.append("\nfeatures ").append(std::to_string(m.df.size())).append("\n");
  for (const auto& [f, counts] : m.df) {
    out.append(f);
    for (auto n : counts) out.append(" ").append(std::to_string(n));
    out.append("\n");
  }
  out.append("end\n");
  return out;
}

Result<TypeModel> TypeModel::Parse(std::string_view bytes) {
  auto impl = std::make_shared<Impl>();
  std::size_t pos = 0, line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= bytes.size()) return false;
    std::size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) return false;  // every line ends in '\n'
    line = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    return true;
  };
  auto bad = [&](const std::string& what) {
    return Fail(Code::kCorruption,
                "classifier: model line " + std::to_string(line_no) + ": " + what);
  };
  auto truncated = [&](const std::string& expected) {
    return Fail(Code::kCorruption, "classifier: model truncated after line " +
                                       std::to_string(line_no) + " (expected " + expected + ")");
  };
  std::string_view line;
  if (!next_line(line)) return truncated("the \"custodia-type-model 1\" header");
  {
    auto w = SplitSpaces(line);
    if (w.size() != 2 || w[0] != kMagic)
      return bad("not a custodia type model (no \"custodia-type-model\" header)");
    int version = 0;
    if (!ParseNumber(w[1], version)) return bad("bad version \"" + std::string(w[1]) + "\"");
    if (version != kVersion)
      return bad("model version " + std::to_string(version) +
                 " is not supported (this build reads " + std::to_string(kVersion) + ")");
  }
  if (!next_line(line)) return truncated("\"types N\"");
  std::size_t k = 0;
  {
    auto w = SplitSpaces(line);
    if (w.size() != 2 || w[0] != "types" || !ParseNumber(w[1], k) || k < 2 || k > 1000)
      return bad("expected \"types N\" with 2 <= N <= 1000");
  }
  std::set<std::string_view> names;
  for (std::size_t c = 0; c < k; ++c) {
    if (!next_line(line)) return truncated("\"type NAME DOCS\"");
    auto w = SplitSpaces(line);
    std::uint32_t n = 0;
    if (w.size() != 3 || w[0] != "type" || !ParseNumber(w[2], n))
      return bad("expected \"type NAME DOCS\"");
    if (!ValidTypeName(w[1]) || w[1] == kOtherType)
      return bad("bad type name \"" + std::string(w[1]) + "\"");
    if (!names.insert(w[1]).second) return bad("type \"" + std::string(w[1]) + "\" twice");
    impl->types.emplace_back(w[1]);
    impl->docs.push_back(n);
  }
  if (!std::is_sorted(impl->types.begin(), impl->types.end()))
    return bad("types are not in sorted order");
  if (!next_line(line)) return truncated("\"calibration ...\"");
  {
    auto w = SplitSpaces(line);
    double v[4];
    if (w.size() != 5 || w[0] != "calibration")
      return bad("expected \"calibration SHARPNESS MIN_LETTERS MIN_COVERAGE THRESHOLD\"");
    for (int i = 0; i < 4; ++i)
      if (!ParseNumber(w[i + 1], v[i]) || !std::isfinite(v[i]) || v[i] < 0)
        return bad("calibration value \"" + std::string(w[i + 1]) + "\" is not a number >= 0");
    if (v[0] <= 0 || v[1] <= 0 || v[2] > 1 || v[3] > 1)
      return bad("calibration values out of range");
    impl->sharpness = v[0], impl->min_letters = v[1], impl->min_coverage = v[2],
    impl->threshold = v[3];
  }
  if (!next_line(line)) return truncated("\"features N\"");
  std::size_t nf = 0;
  {
    auto w = SplitSpaces(line);
    if (w.size() != 2 || w[0] != "features" || !ParseNumber(w[1], nf) || nf > 10'000'000)
      return bad("expected \"features N\"");
  }
  std::string_view previous;
  for (std::size_t i = 0; i < nf; ++i) {
    if (!next_line(line))
      return truncated("feature " + std::to_string(i + 1) + " of " + std::to_string(nf));
    auto w = SplitSpaces(line);
    if (w.size() != k + 1) return bad("expected a feature and " + std::to_string(k) + " counts");
    if (!ValidFeature(w[0])) return bad("bad feature \"" + std::string(w[0]) + "\"");
    if (i > 0 && !(previous < w[0])) return bad("features are not in strictly sorted order");
    previous = w[0];
    std::vector<std::uint32_t> counts(k);
    for (std::size_t c = 0; c < k; ++c)
      if (!ParseNumber(w[c + 1], counts[c]) || counts[c] > impl->docs[c])
        return bad("count \"" + std::string(w[c + 1]) +
                   "\" is not a number of documents of its type");
    impl->df.emplace_hint(impl->df.end(), std::string(w[0]), std::move(counts));
  }
  if (!next_line(line)) return truncated("\"end\"");
  if (line != "end") return bad("expected \"end\"");
  if (pos != bytes.size()) return bad("bytes after \"end\"");
  impl->Finish();
  TypeModel model;
  model.impl_ = std::move(impl);
  return model;
}

const TypeModel& TypeModel::Default() {
  static const TypeModel* model = [] {
    auto parsed = Parse(std::string_view(kDefaultModelText, kDefaultModelSize));
    if (!parsed) {
      std::fprintf(stderr, "classify: embedded default model: %s\n",
                   parsed.error().message.c_str());
      std::abort();
    }
    return new TypeModel(std::move(parsed).value());
  }();
  return *model;
}

}  // namespace custodia::classify
