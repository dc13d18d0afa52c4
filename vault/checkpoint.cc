// vault/checkpoint.cc: C2SP signed notes, checkpoints and tlog proofs over
// libsodium's Ed25519, SHA-256 and base64.
#include "vault/checkpoint.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

#include "vault/crypto.h"

namespace custodia::vault::tlog {
namespace {

static_assert(kEd25519PublicKeySize == crypto_sign_ed25519_PUBLICKEYBYTES);
static_assert(kEd25519SecretKeySize == crypto_sign_ed25519_SECRETKEYBYTES);
static_assert(kEd25519SignatureSize == crypto_sign_ed25519_BYTES);

constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 em dash, space
constexpr std::string_view kProofHeader = "c2sp.org/tlog-proof@v1";
constexpr std::size_t kMaxProofHashes = 64;  // a 2^64-leaf tree's path

std::string Str(std::uint64_t v) { return std::to_string(v); }

std::string ByteHex(std::uint8_t b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

std::string KeyIdHex(std::uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

std::string KeyLabel(std::string_view name, std::uint32_t id) {
  return std::string(name) + "+" + KeyIdHex(id);
}

// Decodes the UTF-8 code point at s[*i] and advances *i; false on anything
// that is not the shortest encoding of a scalar value (RFC 3629).
bool NextCodePoint(std::string_view s, std::size_t* i, char32_t* cp) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(*i);
  std::size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (s.size() - *i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return false;
  *i += len;
  return true;
}

// Unicode White_Space, as Go's unicode.IsSpace (which sumdb/note uses).
bool IsUnicodeSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Why `s` is not acceptable note text (valid UTF-8, no control character
// but "\n"), or nullopt if it is.
std::optional<std::string> TextProblem(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t at = i;
    char32_t c;
    if (!NextCodePoint(s, &i, &c)) return "invalid UTF-8 at byte " + Str(at);
    if (c < 0x20 && c != '\n') {
      return "control character " + ByteHex(static_cast<std::uint8_t>(c)) + " at byte " + Str(at);
    }
  }
  return std::nullopt;
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size();) {
    char32_t c;
    if (!NextCodePoint(name, &i, &c)) return false;
    if (c < 0x20 || c == '+' || IsUnicodeSpace(c)) return false;
  }
  return true;
}

// Why `line` cannot be the origin or an extension line of a checkpoint.
std::optional<std::string> LineProblem(std::string_view line) {
  if (line.empty()) return std::string("empty");
  if (std::optional<std::string> p = TextProblem(line)) return p;
  if (line.find('\n') != std::string_view::npos) return std::string("holds a newline");
  return std::nullopt;
}

std::optional<std::string> OriginProblem(std::string_view origin) {
  if (std::optional<std::string> p = LineProblem(origin)) return p;
  if (origin.front() == ' ' || origin.back() == ' ') return std::string("space at an end");
  return std::nullopt;
}

// Canonical decimal: "0", or digits without a leading zero, within 64 bits.
std::optional<std::uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string EncodeBase64(std::span<const std::uint8_t> bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), kVariant);
  out.pop_back();  // the terminating NUL
  return out;
}

// Standard base64 with padding, and only its canonical form (what
// EncodeBase64 writes): no whitespace, no stray bits in the last character.
std::optional<std::vector<std::uint8_t>> DecodeBase64(std::string_view s) {
  std::vector<std::uint8_t> out(s.size() / 4 * 3 + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != s.data() + s.size()) {
    return std::nullopt;
  }
  out.resize(len);
  if (EncodeBase64(out) != s) return std::nullopt;
  return out;
}

std::optional<Hash> DecodeHash(std::string_view s) {
  std::optional<std::vector<std::uint8_t>> bytes = DecodeBase64(s);
  if (!bytes || bytes->size() != kHashSize) return std::nullopt;
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

// Splits `s` into "\n"-terminated lines. False if the last one lacks "\n".
bool SplitLines(std::string_view s, std::vector<std::string_view>* lines) {
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    if (nl == std::string_view::npos) return false;
    lines->push_back(s.substr(0, nl));
    s.remove_prefix(nl + 1);
  }
  return true;
}

}  // namespace

// --- Checkpoints ---------------------------------------------------------------

Result<std::string> EncodeCheckpoint(const Checkpoint& checkpoint) {
  if (std::optional<std::string> p = OriginProblem(checkpoint.origin)) {
    return Fail(Code::kInvalidArgument, "checkpoint: origin: " + *p);
  }
  std::string text =
      checkpoint.origin + "\n" + Str(checkpoint.size) + "\n" + EncodeBase64(checkpoint.root) + "\n";
  for (std::size_t i = 0; i < checkpoint.extensions.size(); ++i) {
    if (std::optional<std::string> p = LineProblem(checkpoint.extensions[i])) {
      return Fail(Code::kInvalidArgument, "checkpoint: extension line " + Str(i + 1) + ": " + *p);
    }
    text += checkpoint.extensions[i] + "\n";
  }
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return Fail(Code::kCorruption, "checkpoint: " + why);
  };
  if (text.size() > kMaxNoteSize) return bad(Str(text.size()) + " bytes, more than the limit");
  if (std::optional<std::string> p = TextProblem(text)) return bad(*p);
  std::vector<std::string_view> lines;
  if (!SplitLines(text, &lines)) return bad("last line has no newline");
  if (lines.size() < 3) return bad(Str(lines.size()) + " lines, fewer than 3");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad("line " + Str(i + 1) + " is empty");
  }
  Checkpoint checkpoint;
  if (std::optional<std::string> p = OriginProblem(lines[0])) return bad("origin: " + *p);
  checkpoint.origin = std::string(lines[0]);
  std::optional<std::uint64_t> size = ParseDecimal(lines[1]);
  if (!size) return bad("tree size is not a canonical decimal number");
  checkpoint.size = *size;
  std::optional<Hash> root = DecodeHash(lines[2]);
  if (!root) return bad("root hash is not canonical base64 of 32 bytes");
  checkpoint.root = *root;
  for (std::size_t i = 3; i < lines.size(); ++i) checkpoint.extensions.emplace_back(lines[i]);
  return checkpoint;
}

// --- Notes -------------------------------------------------------------------------

Result<Note> ParseNote(std::string_view note) {
  const auto bad = [](const std::string& why) { return Fail(Code::kCorruption, "note: " + why); };
  if (note.size() > kMaxNoteSize) {
    return bad(Str(note.size()) + " bytes, more than the " + Str(kMaxNoteSize) + "-byte limit");
  }
  if (std::optional<std::string> p = TextProblem(note)) return bad(*p);
  // The text ends at the last blank line; signature lines are never empty,
  // so the text itself may hold blank lines.
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return bad("no blank line before the signatures");
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty()) return bad("no signatures");
  std::vector<std::string_view> lines;
  if (!SplitLines(sigs, &lines)) return bad("last signature line has no newline");
  if (lines.size() > kMaxNoteSignatures) {
    return bad(Str(lines.size()) + " signatures, more than " + Str(kMaxNoteSignatures));
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string at = "signature line " + Str(i + 1) + ": ";
    std::string_view line = lines[i];
    if (!line.starts_with(kSignaturePrefix))
      return bad(at + "does not start with an em dash and a space");
    line.remove_prefix(kSignaturePrefix.size());
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad(at + "no space after the key name");
    const std::string_view name = line.substr(0, space);
    if (!IsValidKeyName(name)) return bad(at + "invalid key name");
    std::optional<std::vector<std::uint8_t>> raw = DecodeBase64(line.substr(space + 1));
    if (!raw) return bad(at + "signature is not canonical base64");
    if (raw->size() < 5) return bad(at + "signature shorter than 5 bytes");
    NoteSignature sig;
    sig.key_name = std::string(name);
    sig.key_id = std::uint32_t{(*raw)[0]} << 24 | std::uint32_t{(*raw)[1]} << 16 |
                 std::uint32_t{(*raw)[2]} << 8 | std::uint32_t{(*raw)[3]};
    sig.signature.assign(raw->begin() + 4, raw->end());
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

Result<std::string> EncodeNote(const Note& note) {
  const auto bad = [](const std::string& why) {
    return Fail(Code::kInvalidArgument, "note: " + why);
  };
  if (note.text.empty() || note.text.back() != '\n') return bad("text does not end in a newline");
  if (std::optional<std::string> p = TextProblem(note.text)) return bad("text: " + *p);
  if (note.signatures.empty()) return bad("no signatures");
  if (note.signatures.size() > kMaxNoteSignatures) return bad("too many signatures");
  std::string out = note.text + "\n";
  for (const NoteSignature& sig : note.signatures) {
    if (!IsValidKeyName(sig.key_name)) return bad("invalid key name");
    if (sig.signature.empty()) return bad("empty signature by " + sig.key_name);
    std::vector<std::uint8_t> raw = {
        static_cast<std::uint8_t>(sig.key_id >> 24), static_cast<std::uint8_t>(sig.key_id >> 16),
        static_cast<std::uint8_t>(sig.key_id >> 8), static_cast<std::uint8_t>(sig.key_id)};
    raw.insert(raw.end(), sig.signature.begin(), sig.signature.end());
    out += std::string(kSignaturePrefix) + sig.key_name + " " + EncodeBase64(raw) + "\n";
  }
  if (out.size() > kMaxNoteSize) return bad("more than " + Str(kMaxNoteSize) + " bytes");
  return out;
}

// --- Keys ------------------------------------------------------------------------

std::uint32_t Ed25519KeyId(std::string_view name,
                           std::span<const std::uint8_t, kEd25519PublicKeySize> public_key) {
  CU_CHECK(InitCrypto());
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(name.data()),
                            name.size());
  const std::uint8_t sep[2] = {'\n', kEd25519SignatureType};
  crypto_hash_sha256_update(&state, sep, sizeof sep);
  crypto_hash_sha256_update(&state, public_key.data(), public_key.size());
  Hash digest;
  crypto_hash_sha256_final(&state, digest.data());
  return std::uint32_t{digest[0]} << 24 | std::uint32_t{digest[1]} << 16 |
         std::uint32_t{digest[2]} << 8 | std::uint32_t{digest[3]};
}

Result<VerifierKey> MakeVerifierKey(std::string_view name,
                                    std::span<const std::uint8_t> public_key) {
  CU_TRY(InitCrypto());
  if (!IsValidKeyName(name)) {
    // The name is not echoed: it may hold anything, control characters too.
    return Fail(Code::kInvalidArgument,
                "verifier key: invalid key name (empty, a space or a \"+\")");
  }
  if (public_key.size() != kEd25519PublicKeySize) {
    return Fail(Code::kInvalidArgument, "verifier key: public key is " + Str(public_key.size()) +
                                            " bytes, expected " + Str(kEd25519PublicKeySize));
  }
  // Rejects non-canonical encodings and points of small order, under which
  // a signature would say nothing about who made it.
  if (crypto_core_ed25519_is_valid_point(public_key.data()) != 1) {
    return Fail(Code::kInvalidArgument, "verifier key: not a valid Ed25519 public key");
  }
  VerifierKey key;
  key.name = std::string(name);
  std::copy(public_key.begin(), public_key.end(), key.public_key.begin());
  key.key_id = Ed25519KeyId(key.name, key.public_key);
  return key;
}

Result<VerifierKey> VerifierKeyFromSecretKey(std::string_view name,
                                             std::span<const std::uint8_t> secret_key) {
  CU_TRY(InitCrypto());
  if (secret_key.size() != kEd25519SecretKeySize) {
    return Fail(Code::kInvalidArgument, "verifier key: secret key is " + Str(secret_key.size()) +
                                            " bytes, expected " + Str(kEd25519SecretKeySize));
  }
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key;
  crypto_sign_ed25519_sk_to_pk(public_key.data(), secret_key.data());
  return MakeVerifierKey(name, public_key);
}

std::string EncodeVerifierKey(const VerifierKey& key) {
  std::vector<std::uint8_t> raw = {kEd25519SignatureType};
  raw.insert(raw.end(), key.public_key.begin(), key.public_key.end());
  return key.name + "+" + KeyIdHex(key.key_id) + "+" + EncodeBase64(raw);
}

Result<VerifierKey> ParseVerifierKey(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return Fail(Code::kInvalidArgument, "verifier key: " + why);
  };
  // name+id+base64: the name has no "+", base64 may.
  const std::size_t plus1 = text.find('+');
  if (plus1 == std::string_view::npos) return bad("not of the form name+id+key");
  const std::size_t plus2 = text.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) return bad("not of the form name+id+key");
  const std::string_view name = text.substr(0, plus1);
  const std::string_view id_hex = text.substr(plus1 + 1, plus2 - plus1 - 1);
  std::uint32_t id = 0;
  const auto [end, ec] = std::from_chars(id_hex.data(), id_hex.data() + id_hex.size(), id, 16);
  if (id_hex.size() != 8 || ec != std::errc() || end != id_hex.data() + id_hex.size()) {
    return bad("key id is not 8 hex digits");
  }
  std::optional<std::vector<std::uint8_t>> raw = DecodeBase64(text.substr(plus2 + 1));
  if (!raw || raw->empty()) return bad("key is not canonical base64");
  if ((*raw)[0] != kEd25519SignatureType) {
    return Fail(Code::kUnsupported, "verifier key: signature type " + ByteHex((*raw)[0]) +
                                        " is not supported (only Ed25519, 0x01)");
  }
  CU_ASSIGN_OR_RETURN(VerifierKey key,
                      MakeVerifierKey(name, std::span<const std::uint8_t>(*raw).subspan(1)));
  if (key.key_id != id) {
    return bad("key id " + std::string(id_hex) + " does not match the key (" +
               KeyIdHex(key.key_id) + ")");
  }
  return key;
}

// --- Signing and verifying ---------------------------------------------------------

Result<NoteSignature> SignNoteText(std::string_view text, std::string_view key_name,
                                   std::span<const std::uint8_t> secret_key) {
  CU_TRY(InitCrypto());
  if (text.empty() || text.back() != '\n') {
    return Fail(Code::kInvalidArgument, "note: text does not end in a newline");
  }
  if (std::optional<std::string> p = TextProblem(text)) {
    return Fail(Code::kInvalidArgument, "note: text: " + *p);
  }
  CU_ASSIGN_OR_RETURN(VerifierKey key, VerifierKeyFromSecretKey(key_name, secret_key));
  NoteSignature sig;
  sig.key_name = key.name;
  sig.key_id = key.key_id;
  sig.signature.resize(kEd25519SignatureSize);
  crypto_sign_ed25519_detached(sig.signature.data(), nullptr,
                               reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                               secret_key.data());
  // A secret key whose seed does not belong to its public half (a damaged
  // key file) makes signatures that nobody can verify: refuse to emit one.
  if (crypto_sign_ed25519_verify_detached(sig.signature.data(),
                                          reinterpret_cast<const unsigned char*>(text.data()),
                                          text.size(), key.public_key.data()) != 0) {
    return Fail(Code::kInvalidArgument,
                "note: the secret key's seed and public key do not match; not signing");
  }
  return sig;
}

Result<std::string> SignNote(std::string_view text, std::string_view key_name,
                             std::span<const std::uint8_t> secret_key) {
  CU_ASSIGN_OR_RETURN(NoteSignature sig, SignNoteText(text, key_name, secret_key));
  Note note;
  note.text = std::string(text);
  note.signatures.push_back(std::move(sig));
  return EncodeNote(note);
}

Status VerifyNote(const Note& note, const VerifierKey& key) {
  CU_TRY(InitCrypto());
  const std::string label = KeyLabel(key.name, key.key_id);
  bool verified = false;
  for (const NoteSignature& sig : note.signatures) {
    if (sig.key_name != key.name || sig.key_id != key.key_id) continue;  // unknown key
    if (sig.signature.size() != kEd25519SignatureSize ||
        crypto_sign_ed25519_verify_detached(
            sig.signature.data(), reinterpret_cast<const unsigned char*>(note.text.data()),
            note.text.size(), key.public_key.data()) != 0) {
      return Fail(Code::kTampered, "note: signature by " + label + " does not verify");
    }
    verified = true;
  }
  if (!verified) return Fail(Code::kTampered, "note: no signature by " + label);
  return Ok();
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view key_name,
                                   std::span<const std::uint8_t> secret_key) {
  CU_ASSIGN_OR_RETURN(std::string text, EncodeCheckpoint(checkpoint));
  return SignNote(text, key_name, secret_key);
}

Result<Checkpoint> VerifyCheckpoint(std::string_view signed_checkpoint, std::string_view origin,
                                    const VerifierKey& key) {
  CU_ASSIGN_OR_RETURN(Note note, ParseNote(signed_checkpoint));
  // The text is not looked at before its signature has verified.
  CU_TRY(VerifyNote(note, key));
  CU_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpoint(note.text));
  if (checkpoint.origin != origin) {
    return Fail(Code::kTampered, "checkpoint: origin is \"" + checkpoint.origin +
                                     "\", expected \"" + std::string(origin) + "\"");
  }
  return checkpoint;
}

// --- tlog proofs -------------------------------------------------------------------

Result<std::string> EncodeTlogProof(const TlogProof& proof) {
  if (proof.proof.size() > kMaxProofHashes) {
    return Fail(Code::kInvalidArgument, "tlog-proof: " + Str(proof.proof.size()) +
                                            " hashes, more than " + Str(kMaxProofHashes));
  }
  Result<Note> note = ParseNote(proof.checkpoint);
  if (!note) return Fail(Code::kInvalidArgument, "tlog-proof: checkpoint: " + note.error().message);
  std::string out = std::string(kProofHeader) + "\n";
  if (proof.extra) out += "extra " + EncodeBase64(*proof.extra) + "\n";
  out += "index " + Str(proof.index) + "\n";
  for (const Hash& h : proof.proof) out += EncodeBase64(h) + "\n";
  out += "\n";
  out += proof.checkpoint;
  return out;
}

Result<TlogProof> ParseTlogProof(std::string_view text) {
  const auto bad = [](const std::string& why) {
    return Fail(Code::kCorruption, "tlog-proof: " + why);
  };
  // Takes the next "\n"-terminated line off `text`.
  const auto next_line = [&text]() -> std::optional<std::string_view> {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    return line;
  };
  std::optional<std::string_view> line = next_line();
  if (!line || *line != kProofHeader)
    return bad("first line is not \"" + std::string(kProofHeader) + "\"");
  TlogProof proof;
  line = next_line();
  if (line && line->starts_with("extra ")) {
    std::optional<std::vector<std::uint8_t>> extra = DecodeBase64(line->substr(6));
    if (!extra) return bad("extra data is not canonical base64");
    proof.extra = std::move(*extra);
    line = next_line();
  }
  if (!line || !line->starts_with("index ")) return bad("no index line");
  std::optional<std::uint64_t> index = ParseDecimal(line->substr(6));
  if (!index) return bad("index is not a canonical decimal number");
  proof.index = *index;
  for (;;) {
    line = next_line();
    if (!line) return bad("no blank line before the checkpoint");
    if (line->empty()) break;
    if (proof.proof.size() == kMaxProofHashes)
      return bad("more than " + Str(kMaxProofHashes) + " hashes");
    std::optional<Hash> h = DecodeHash(*line);
    if (!h)
      return bad("hash " + Str(proof.proof.size() + 1) + " is not canonical base64 of 32 bytes");
    proof.proof.push_back(*h);
  }
  Result<Note> note = ParseNote(text);
  if (!note) return bad("checkpoint: " + note.error().message);
  proof.checkpoint = std::string(text);
  return proof;
}

Result<Checkpoint> VerifyTlogProof(const TlogProof& proof, const Hash& leaf_hash,
                                   std::string_view origin, const VerifierKey& key) {
  CU_ASSIGN_OR_RETURN(Checkpoint checkpoint, VerifyCheckpoint(proof.checkpoint, origin, key));
  Status included =
      VerifyInclusion(leaf_hash, proof.index, checkpoint.size, proof.proof, checkpoint.root);
  if (!included) return Wrap(included.error(), "tlog-proof");
  return checkpoint;
}

}  // namespace custodia::vault::tlog
