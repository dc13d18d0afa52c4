// classify/model/train_type_model.cc: trains and evaluates document-type
// models (scripts/train_default_model.sh, docs/classifier.md).
//   train_type_model train OUT DIR...           learn from DIR/*.expected.json
//   train_type_model eval MODEL [--noise N] DIR...
//                                               accuracy on DIR/*.expected.json
//                                               ("text" with OCR noise level N)
//                                               or on DIR/*.txt (type in name)
//   train_type_model predict MODEL FILE         type, confidence, ranking
//   train_type_model extract TYPE FILE          TYPE's fields from FILE's text,
//                                               as JSON (bench/classify_eval.py
//                                               --invoices, whatever the type)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "classify/classifier.h"
#include "classify/extract.h"

namespace fs = std::filesystem;
using custodia::classify::LabelledText;
using custodia::classify::TypeModel;

namespace {

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Examples from DIR/*.expected.json, or DIR/*.txt whose name holds a type of
// `types` ("e0003_justificante_p1.txt"), in sorted path order.
std::vector<LabelledText> Load(const std::vector<std::string>& dirs,
                               const std::vector<std::string>& types) {
  std::vector<fs::path> paths;
  for (const auto& dir : dirs)
    for (const auto& entry : fs::directory_iterator(dir)) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  std::vector<LabelledText> out;
  for (const auto& p : paths) {
    std::string name = p.filename().string();
    if (name.ends_with(".expected.json")) {
      auto j = nlohmann::json::parse(ReadFile(p));
      out.push_back({j.at("type").get<std::string>(), j.at("text").get<std::string>()});
    } else if (name.ends_with(".txt") && !name.ends_with(".gt.txt")) {
      std::string type;
      for (const auto& t : types) {
        std::string head = t.substr(0, t.find('_'));
        if (name.find("_" + head) != std::string::npos) type = t;
      }
      if (!type.empty()) out.push_back({type, ReadFile(p)});
    }
  }
  return out;
}

int Train(const std::string& out, const std::vector<std::string>& dirs) {
  auto examples = Load(dirs, {});
  auto model = TypeModel::Train(examples);
  if (!model) {
    std::fprintf(stderr, "train_type_model: %s\n", model.error().message.c_str());
    return 1;
  }
  std::ofstream(out, std::ios::binary) << model->Serialize();
  std::printf("train_type_model: %zu examples -> %s\n", examples.size(), out.c_str());
  return 0;
}

int Eval(const std::string& model_path, int noise, const std::vector<std::string>& dirs) {
  auto model = TypeModel::Parse(ReadFile(model_path));
  if (!model) {
    std::fprintf(stderr, "train_type_model: %s\n", model.error().message.c_str());
    return 1;
  }
  auto examples = Load(dirs, model->Types());
  std::map<std::pair<std::string, std::string>, int> confusions;
  int right = 0, otro = 0;
  double conf_right = 0, conf_wrong = 0, min_right = 1, max_wrong = 0;
  double seconds = 0;
  std::uint64_t seed = 5000;
  for (const auto& e : examples) {
    std::string text = noise ? custodia::classify::AddOcrNoise(e.text, ++seed, noise) : e.text;
    auto t0 = std::chrono::steady_clock::now();
    auto p = model->Predict(text);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (p.type == e.type) {
      ++right, conf_right += p.confidence;
      min_right = std::min(min_right, p.confidence);
    } else {
      ++confusions[{e.type, p.type}];
      conf_wrong += p.confidence;
      max_wrong = std::max(max_wrong, p.confidence);
      if (p.type == "otro") ++otro;
    }
  }
  int n = static_cast<int>(examples.size());
  std::printf("documents %d  right %d (%.2f%%)  otro %d  wrong-type %d\n", n, right,
              n ? 100.0 * right / n : 0.0, otro, n - right - otro);
  std::printf("confidence: right mean %.3f min %.3f; wrong mean %.3f max %.3f\n",
              right ? conf_right / right : 0.0, min_right,
              n - right ? conf_wrong / (n - right) : 0.0, max_wrong);
  std::printf("predict: %.2f ms per document\n", n ? 1000 * seconds / n : 0.0);
  for (const auto& [pair, count] : confusions)
    std::printf("  %s -> %s: %d\n", pair.first.c_str(), pair.second.c_str(), count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "train")
    return Train(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  if (args.size() >= 3 && args[0] == "eval") {
    int noise = 0;
    std::size_t first = 2;
    if (args.size() >= 5 && args[2] == "--noise") noise = std::stoi(args[3]), first = 4;
    return Eval(args[1], noise, std::vector<std::string>(args.begin() + first, args.end()));
  }
  if (args.size() == 3 && args[0] == "predict") {
    auto model = TypeModel::Parse(ReadFile(args[1]));
    if (!model) return 1;
    auto p = model->Predict(ReadFile(args[2]));
    std::printf("%s %.3f |", p.type.c_str(), p.confidence);
    for (const auto& [t, q] : p.ranked) std::printf(" %s %.3f", t.c_str(), q);
    std::printf("\n");
    return 0;
  }
  if (args.size() == 3 && args[0] == "extract") {
    auto e = custodia::classify::ExtractFields(args[1], ReadFile(args[2]), {});
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [name, f] : e.fields)
      fields[name] = {{"value", f.value}, {"valid", f.valid}, {"confidence", f.confidence}};
    std::printf("%s\n",
                fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::fprintf(stderr,
               "usage: train_type_model train OUT DIR...\n"
               "       train_type_model eval MODEL [--noise N] DIR...\n"
               "       train_type_model predict MODEL FILE\n"
               "       train_type_model extract TYPE FILE\n");
  return 2;
}
