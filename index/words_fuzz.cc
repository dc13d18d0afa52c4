// index/words_fuzz.cc: libFuzzer target holding CutIndexWords (how
// Index::Put cuts a text into words) to Xapian's TermGenerator, which the
// query side still uses: for any bytes, the same words at the same
// positions, or the index would hold terms no query can meet. Aborts on
// the first difference. Built with -DCU_FUZZ=ON (clang); run by
// scripts/fuzz.sh.
#include <xapian.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "index/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // What the TermGenerator indexes, by position (no stemmer, no stopper:
  // each word as it is cut; words over 64 bytes take no position).
  static Xapian::TermGenerator* generator = new Xapian::TermGenerator;
  Xapian::Document doc;
  generator->set_document(doc);
  generator->index_text(text);
  std::vector<std::string> expected;
  for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
    for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) {
      if (expected.size() < *p) expected.resize(*p);
      expected[*p - 1] = *t;
    }
  }
  static std::string* buffer = new std::string;
  static std::vector<std::uint32_t>* ends = new std::vector<std::uint32_t>;
  custodia::index::CutIndexWords(text, buffer, ends);
  std::vector<std::string> words;
  std::uint32_t begin = 0;
  for (const std::uint32_t end : *ends) {
    if (end - begin <= 64) words.push_back(buffer->substr(begin, end - begin));
    begin = end;
  }
  if (words != expected) {
    std::fprintf(stderr, "CutIndexWords: %zu words, the TermGenerator %zu\n", words.size(),
                 expected.size());
    for (std::size_t i = 0; i < words.size() || i < expected.size(); ++i) {
      const std::string a = i < words.size() ? words[i] : "(none)";
      const std::string b = i < expected.size() ? expected[i] : "(none)";
      if (a != b) {
        std::fprintf(stderr, "word %zu: \"%s\" against \"%s\"\n", i + 1, a.c_str(), b.c_str());
        break;
      }
    }
    std::abort();
  }
  return 0;
}
