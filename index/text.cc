// index/text.cc: folding (case and accents) and word splitting, the text
// rules shared by indexing, query parsing and snippets.
#include "index/text.h"

#include <xapian.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "index/index.h"

namespace custodia::index {
namespace {

using Xapian::Utf8Iterator;
namespace unicode = Xapian::Unicode;

// Base letters of U+00E0..U+00FF (lower-case Latin-1), '*' = keep as is.
// à..å a, æ (below), ç c, è..ë e, ì..ï i, ð d, ñ n, ò..ö o, ÷ keep, ø o,
// ù..ü u, ý y, þ keep, ÿ y.
constexpr char kLatin1[] = "aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
static_assert(sizeof(kLatin1) - 1 == 0x100 - 0xe0);

// Base letters of U+0100..U+017F (Latin Extended-A, upper and lower case
// alternate), '*' = handled below (ĳ, œ).
constexpr char kLatinExtendedA[] =
    "aaaaaa"        // 0100 Ā ā Ă ă Ą ą
    "cccccccc"      // 0106 Ć ć Ĉ ĉ Ċ ċ Č č
    "dddd"          // 010E Ď ď Đ đ
    "eeeeeeeeee"    // 0112 Ē ē Ĕ ĕ Ė ė Ę ę Ě ě
    "gggggggg"      // 011C Ĝ ĝ Ğ ğ Ġ ġ Ģ ģ
    "hhhh"          // 0124 Ĥ ĥ Ħ ħ
    "iiiiiiiiii"    // 0128 Ĩ ĩ Ī ī Ĭ ĭ Į į İ ı
    "**"            // 0132 Ĳ ĳ
    "jj"            // 0134 Ĵ ĵ
    "kkk"           // 0136 Ķ ķ ĸ
    "llllllllll"    // 0139 Ĺ ĺ Ļ ļ Ľ ľ Ŀ ŀ Ł ł
    "nnnnnnnnn"     // 0143 Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ
    "oooooo"        // 014C Ō ō Ŏ ŏ Ő ő
    "**"            // 0152 Œ œ
    "rrrrrr"        // 0154 Ŕ ŕ Ŗ ŗ Ř ř
    "ssssssss"      // 015A Ś ś Ŝ ŝ Ş ş Š š
    "tttttt"        // 0162 Ţ ţ Ť ť Ŧ ŧ
    "uuuuuuuuuuuu"  // 0168 Ũ ũ Ū ū Ŭ ŭ Ů ů Ű ű Ų ų
    "ww"            // 0174 Ŵ ŵ
    "yyy"           // 0176 Ŷ ŷ Ÿ
    "zzzzzz"        // 0179 Ź ź Ż ż Ž ž
    "s";            // 017F ſ
static_assert(sizeof(kLatinExtendedA) - 1 == 0x180 - 0x100);

// Appends the folded form of `ch` to `out`.
void AppendFolded(unsigned ch, std::string& out) {
  ch = unicode::tolower(ch);
  if (ch < 0x80) {
    out.push_back(static_cast<char>(ch));
    return;
  }
  // Combining diacritical marks: text in decomposed form (NFD), as some PDF
  // text layers give it, folds like the precomposed letter.
  if (ch >= 0x300 && ch <= 0x36f) return;
  char base = '*';
  if (ch >= 0xe0 && ch <= 0xff) base = kLatin1[ch - 0xe0];
  if (ch >= 0x100 && ch <= 0x17f) base = kLatinExtendedA[ch - 0x100];
  if (base != '*') {
    out.push_back(base);
    return;
  }
  switch (ch) {
    case 0xdf:
      out += "ss";
      return;  // ß
    case 0xe6:
      out += "ae";
      return;  // æ
    case 0x133:
      out += "ij";
      return;  // ĳ
    case 0x153:
      out += "oe";
      return;  // œ
    default:
      unicode::append_utf8(out, ch);  // other scripts: lower case only
  }
}

bool IsDigit(unsigned ch) { return unicode::get_category(ch) == unicode::DECIMAL_DIGIT_NUMBER; }

// What the TermGenerator does with a character between two word characters
// (between two digits when `digits`): 0 ends the word, kIgnore drops it,
// anything else is kept in the term as that character.
constexpr unsigned kIgnore = ~0u;
unsigned Infix(unsigned ch, bool digits) {
  if (ch >= 0x200b && (ch <= 0x200d || ch == 0x2060 || ch == 0xfeff)) return kIgnore;
  if (digits) {
    switch (ch) {
      case ',':
      case '.':
      case ';':
      case 0x37e:
      case 0x589:
      case 0x60d:
      case 0x7f8:
      case 0x2044:
      case 0xfe10:
      case 0xfe13:
      case 0xfe14:
        return ch;
      default:
        return 0;
    }
  }
  if (ch == '\'' || ch == '&' || ch == 0xb7 || ch == 0x5f4 || ch == 0x2027) return ch;
  if (ch == 0x2019 || ch == 0x201b) return '\'';  // typographic apostrophes
  return 0;
}

// Function words, lower case ASCII, none a word of the other language.
constexpr std::string_view kSpanishWords[] = {"de",  "la",   "el",  "en",   "y",    "los",
                                              "las", "del",  "que", "por",  "con",  "para",
                                              "una", "un",   "su",  "al",   "es",   "se",
                                              "lo",  "como", "sus", "este", "esta", "o"};
constexpr std::string_view kEnglishWords[] = {"the", "of",   "and",  "to",   "in",  "for",
                                              "is",  "on",   "with", "by",   "this", "that",
                                              "from", "at",  "are",  "be",   "your", "you",
                                              "was", "it",   "an",   "or",   "as",   "our"};

bool IsIn(std::string_view word, const std::string_view* list, std::size_t size) {
  return std::find(list, list + size, word) != list + size;
}

// "a" is a function word of both languages, so it tells neither.
constexpr std::string_view kBoth = "a";

// A word of at most 5 ASCII bytes as one number (its bytes and its length),
// for DetectLanguage to compare words as integers.
constexpr std::uint64_t Packed(std::string_view word) {
  std::uint64_t n = word.size();
  for (const char c : word) n = (n << 8) | static_cast<unsigned char>(c);
  return n;
}
template <std::size_t N>
constexpr std::array<std::uint64_t, N> PackedList(const std::string_view (&words)[N]) {
  std::array<std::uint64_t, N> packed{};
  for (std::size_t i = 0; i < N; ++i) packed[i] = Packed(words[i]);
  return packed;
}
constexpr auto kSpanishPacked = PackedList(kSpanishWords);
constexpr auto kEnglishPacked = PackedList(kEnglishWords);
template <std::size_t N>
bool IsIn(std::uint64_t word, const std::array<std::uint64_t, N>& list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Characters below U+0180 (ASCII, Latin-1, Latin Extended-A: nearly every
// character of a Spanish or English text), classified once by Xapian's
// own tables, so that the word cutter asks Xapian only about the rest.
struct CharTable {
  // What the TermGenerator's check_wordchar gives: the lower case of a
  // word character, 0 for any other.
  unsigned word[0x180];
  bool digit[0x180];
  CharTable() {
    for (unsigned c = 0; c < 0x180; ++c) {
      word[c] = unicode::is_wordchar(c) ? unicode::tolower(c) : 0;
      digit[c] = unicode::get_category(c) == unicode::DECIMAL_DIGIT_NUMBER;
    }
  }
};

// Reads a text character by character as Xapian's Utf8Iterator does
// (invalid UTF-8 byte by byte, as Latin-1), without its per-character cost.
class Chars {
 public:
  explicit Chars(std::string_view text) : end_(text.data() + text.size()) {}

  const char* end() const { return end_; }

  // The code point at p (< end), and in *next where the next one begins.
  unsigned At(const char* p, const char** next) const {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {
      *next = p + 1;
      return c;
    }
    // Two-byte sequences (Latin-1 and Extended-A letters) here; C0 and C1
    // are overlong, and a bad continuation byte leaves it to Xapian.
    if (c >= 0xc2 && c < 0xe0 && p + 1 < end_ &&
        (static_cast<unsigned char>(p[1]) & 0xc0) == 0x80) {
      *next = p + 2;
      return ((c & 0x1fu) << 6) | (static_cast<unsigned char>(p[1]) & 0x3fu);
    }
    // GCC cannot see that the length is never 0 (which would leave the
    // iterator's other fields unset, as its end).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
    Utf8Iterator it(p, static_cast<std::size_t>(end_ - p));
    const unsigned ch = *it;
    ++it;
    *next = it.raw();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    return ch;
  }

  // check_wordchar: the lower case of a word character, 0 for any other.
  unsigned WordChar(unsigned ch) const {
    if (ch < 0x180) return table_.word[ch];
    return unicode::is_wordchar(ch) ? unicode::tolower(ch) : 0;
  }
  bool Digit(unsigned ch) const {
    return ch < 0x180 ? table_.digit[ch]
                      : unicode::get_category(ch) == unicode::DECIMAL_DIGIT_NUMBER;
  }

 private:
  static inline const CharTable table_;
  const char* const end_;
};

void AppendUtf8(std::string* out, unsigned ch) {
  if (ch < 0x80) {
    out->push_back(static_cast<char>(ch));
  } else {
    unicode::append_utf8(*out, ch);
  }
}

bool AsciiUpper(unsigned ch) { return ch >= 'A' && ch <= 'Z'; }

// One word of CutIndexWords, the TermGenerator's parse_terms step by step:
// *at is the word's first character (`raw`, whose lower case is `ch`, and
// the character after it begins at `next`). Appends the word to *out and
// leaves *at where the TermGenerator goes on looking for the next word.
void CutOneWord(const Chars& chars, const char** at, unsigned raw, unsigned ch, const char* next,
                std::string* out) {
  const char* it = *at;
  const char* const end = chars.end();
  const std::size_t start = out->size();
  // Initials separated by '.' ("P.T.O.", "S.L."): one word, dots dropped,
  // unless a word character follows.
  if (AsciiUpper(raw)) {
    const char* p = it;
    unsigned c = raw;
    for (;;) {
      out->push_back(static_cast<char>(c - 'A' + 'a'));
      ++p;  // an ASCII letter is one byte; so is '.'
      if (p == end || *p != '.') break;
      ++p;
      if (p == end || !AsciiUpper(static_cast<unsigned char>(*p))) break;
      c = static_cast<unsigned char>(*p);
    }
    if (out->size() - start > 1) {
      const char* after = nullptr;
      if (p == end || chars.WordChar(chars.At(p, &after)) == 0) {
        *at = p;
        return;
      }
    }
    out->resize(start);
  }
  // Word characters, joined across one infix character.
  for (;;) {
    unsigned prev = 0;
    do {
      AppendUtf8(out, ch);
      prev = ch;
      it = next;
      if (it == end) {
        *at = it;
        return;
      }
      raw = chars.At(it, &next);
      ch = chars.WordChar(raw);
    } while (ch != 0);
    // `it` is a character that is not a word character (`raw`).
    if (next == end) break;
    const char* after_next = nullptr;
    const unsigned raw_next = chars.At(next, &after_next);
    const unsigned next_ch = chars.WordChar(raw_next);
    if (next_ch == 0) break;
    const unsigned infix = Infix(raw, chars.Digit(prev) && chars.Digit(raw_next));
    if (infix == 0) break;
    if (infix != kIgnore) AppendUtf8(out, infix);
    ch = next_ch;
    it = next;
    next = after_next;
  }
  // Up to three '+' or '#' ("C++", "C#"), unless a word character follows.
  const std::size_t len = out->size();
  unsigned count = 0;
  while (raw == '+' || raw == '#') {
    if (++count > 3) {
      out->resize(len);
      break;
    }
    out->push_back(static_cast<char>(raw));
    it = next;
    if (it == end) {
      *at = it;
      return;
    }
    raw = chars.At(it, &next);
  }
  if (chars.WordChar(raw) != 0) out->resize(len);
  *at = it;
}

}  // namespace

Language DetectLanguage(std::string_view text) {
  // Bytes, not characters: every listed word is ASCII, and a word next to a
  // non-ASCII letter ("dé") is a different word anyway.
  int spanish = 0;
  int english = 0;
  const auto ascii_letter = [&](std::size_t at) {
    const char c = text[at];
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  const auto word_byte = [&](std::size_t at) {
    return ascii_letter(at) || (text[at] >= '0' && text[at] <= '9') ||
           (static_cast<unsigned char>(text[at]) & 0x80) != 0;
  };
  std::size_t i = 0;
  char word[5];
  while (i < text.size()) {
    if (!word_byte(i)) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    bool plain = true;
    while (i < text.size() && word_byte(i)) {
      plain = plain && ascii_letter(i);
      ++i;
    }
    const std::size_t size = i - begin;
    if (!plain || size > sizeof word) continue;
    for (std::size_t k = 0; k < size; ++k) {
      word[k] = static_cast<char>(text[begin + k] | 0x20);  // ASCII lower case
    }
    const std::uint64_t w = Packed(std::string_view(word, size));
    if (IsIn(w, kSpanishPacked)) ++spanish;
    if (IsIn(w, kEnglishPacked)) ++english;
  }
  return english >= 3 && english > spanish ? Language::kEnglish : Language::kSpanish;
}

bool IsStopword(Language language, std::string_view word) {
  if (word.size() > 5) return false;  // the longest listed word has 5 letters
  if (word == kBoth) return true;
  return language == Language::kSpanish
             ? IsIn(word, kSpanishWords, std::size(kSpanishWords))
             : IsIn(word, kEnglishWords, std::size(kEnglishWords));
}

std::vector<std::string_view> Stopwords(Language language) {
  std::vector<std::string_view> words;
  if (language == Language::kSpanish) {
    words.assign(std::begin(kSpanishWords), std::end(kSpanishWords));
  } else {
    words.assign(std::begin(kEnglishWords), std::end(kEnglishWords));
  }
  words.push_back(kBoth);
  return words;
}

std::string Fold(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (Utf8Iterator it(text); it != Utf8Iterator(); ++it) AppendFolded(*it, out);
  return out;
}

bool IsSpace(unsigned ch) {
  return unicode::is_whitespace(ch) || unicode::get_category(ch) == unicode::CONTROL;
}

std::vector<Word> SplitWords(std::string_view text) {
  std::vector<Word> words;
  const Utf8Iterator end;
  Utf8Iterator it(text.data(), text.size());
  auto offset = [&](const Utf8Iterator& i) {
    return i == end ? text.size() : static_cast<std::size_t>(i.raw() - text.data());
  };
  while (it != end) {
    if (!unicode::is_wordchar(*it)) {
      ++it;
      continue;
    }
    Word word;
    word.begin = offset(it);
    std::string raw;  // the word's characters, infixes normalised
    for (;;) {
      const unsigned ch = *it;
      unicode::append_utf8(raw, ch);
      ++it;
      if (it == end) break;
      if (unicode::is_wordchar(*it)) continue;
      Utf8Iterator next = it;
      ++next;
      if (next == end || !unicode::is_wordchar(*next)) break;
      const unsigned infix = Infix(*it, IsDigit(ch) && IsDigit(*next));
      if (infix == 0) break;
      if (infix != kIgnore) unicode::append_utf8(raw, infix);
      it = next;
    }
    word.end = offset(it);
    word.term = Fold(raw);
    words.push_back(std::move(word));
  }
  return words;
}

void CutIndexWords(std::string_view text, std::string* buffer, std::vector<std::uint32_t>* ends) {
  buffer->clear();
  ends->clear();
  const Chars chars(text);
  const char* it = text.data();
  const char* const end = chars.end();
  while (it != end) {
    const char* next = nullptr;
    const unsigned raw = chars.At(it, &next);
    const unsigned ch = chars.WordChar(raw);
    if (ch == 0) {
      it = next;
      continue;
    }
    CutOneWord(chars, &it, raw, ch, next, buffer);
    ends->push_back(static_cast<std::uint32_t>(buffer->size()));
  }
}

}  // namespace custodia::index
