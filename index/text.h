// index/text.h (internal): how the index cuts UTF-8 text into words and folds
// them. Shared by indexing, query parsing and snippets so that all three see
// the same words.
#ifndef CUSTODIA_INDEX_TEXT_H_
#define CUSTODIA_INDEX_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace custodia::index {

// One word of a text: bytes [begin, end) of the original, and the term the
// word becomes once folded (what the TermGenerator indexes, unstemmed).
struct Word {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string term;
};

// Splits `text` into words with the rules of Xapian 1.4's TermGenerator:
// runs of word characters, joined across one apostrophe or '&' between word
// characters ("d'Ors", "AT&T") and across one ',' '.' ';' between digits
// ("1.234,56"). Boundaries always fall on UTF-8 character boundaries.
// Differences from the TermGenerator (acronyms, "C++") only cost a missing
// highlight, never a wrong one.
std::vector<Word> SplitWords(std::string_view text);

// The words Xapian 1.4's TermGenerator indexes in `text`, exactly as its
// parse_terms cuts them when CJK n-grams are off (Index::Put uses this in
// place of the TermGenerator, which costs over 1,000 instructions a word
// in character iterators and string copies): lower case, initials joined
// ("S.L." -> "sl"), infixes kept ("d'Ors", "1.234,56"), up to three '+'
// or '#' suffixes ("C++"), invalid UTF-8 read byte by byte as Latin-1.
// Word i is buffer[ends[i-1], ends[i]) (ends[-1] = 0); both are cleared
// first and their memory reused. Words longer than the TermGenerator's
// 64-byte limit are cut too: the caller skips them. IndexTest's
// differential tests and index_words_fuzz hold this to the TermGenerator.
void CutIndexWords(std::string_view text, std::string* buffer, std::vector<std::uint32_t>* ends);

// The language a text is indexed in: its words are stemmed by that
// language's rules.
enum class Language { kSpanish, kEnglish };

// Spanish unless the text is plainly English: counts the commonest function
// words of each (words no other word of the other language spells) and says
// English when English ones are at least 3 and outnumber the Spanish ones.
// A text with few words (an ID card) stays Spanish.
Language DetectLanguage(std::string_view text);

// True for the function words of `language` (lower case, as a word comes
// from the TermGenerator): the words DetectLanguage counts, and "a". The
// index leaves them out (docs/index_schema.md, "Function words").
bool IsStopword(Language language, std::string_view word);

// The same words, for the query side to find them among its terms.
std::vector<std::string_view> Stopwords(Language language);

// True for characters the snippet treats as a word gap that collapses to one
// space (Unicode white space and control characters).
bool IsSpace(unsigned ch);

}  // namespace custodia::index

#endif  // CUSTODIA_INDEX_TEXT_H_
