// vault/checkpoint_test.cc: signed notes, checkpoints and tlog proofs against
// the published golang.org/x/mod/sumdb/note example, round trips, and every
// malformed or forged input we could think of.
#include "vault/checkpoint.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "vault/merkle.h"

namespace custodia::vault::tlog {
namespace {

using namespace std::string_literals;

// --- Published example: golang.org/x/mod, sumdb/note/note.go (package doc)
// and sumdb/note/note_test.go (TestSign, TestOpen, TestNewVerifier).

constexpr std::string_view kPeterKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
// The signer key of the example: "PRIVATE+KEY+PeterNeumann+c74f20a3+" then
// this, base64 of 0x01 || the 32-byte Ed25519 seed.
constexpr std::string_view kPeterSeed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kEnochKey =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr std::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr std::string_view kPeterSig =
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr std::string_view kEnochSig =
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::string GoNote() { return std::string(kGoText) + "\n" + std::string(kPeterSig); }

// An Ed25519 key pair in libsodium's layout, from a 32-byte seed.
struct KeyPair {
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key{};
  std::array<std::uint8_t, kEd25519SecretKeySize> secret_key{};
};

KeyPair FromSeed(std::span<const std::uint8_t> seed) {
  EXPECT_EQ(sodium_init() >= 0, true);
  EXPECT_EQ(seed.size(), std::size_t{crypto_sign_ed25519_SEEDBYTES});
  KeyPair kp;
  crypto_sign_ed25519_seed_keypair(kp.public_key.data(), kp.secret_key.data(), seed.data());
  return kp;
}

KeyPair FromSeedByte(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed;
  seed.fill(b);
  return FromSeed(seed);
}

KeyPair PeterKeyPair() {
  std::vector<std::uint8_t> raw(64);
  std::size_t len = 0;
  EXPECT_EQ(sodium_base642bin(raw.data(), raw.size(), kPeterSeed.data(), kPeterSeed.size(), nullptr,
                              &len, nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  EXPECT_EQ(len, 33u);
  EXPECT_EQ(raw[0], 0x01);
  return FromSeed(std::span<const std::uint8_t>(raw).subspan(1, 32));
}

VerifierKey MustParseKey(std::string_view text) {
  Result<VerifierKey> key = ParseVerifierKey(text);
  EXPECT_TRUE(key) << key.error().message;
  return key ? *key : VerifierKey{};
}

constexpr std::string_view kOrigin = "custodia.example/archive";

Hash SomeRoot() {
  const std::string s = "some root";
  return LeafHash({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

Checkpoint SomeCheckpoint() { return Checkpoint{std::string(kOrigin), 8, SomeRoot(), {}}; }

std::string SignedCheckpoint(const KeyPair& kp, const Checkpoint& cp = SomeCheckpoint()) {
  Result<std::string> note = SignCheckpoint(cp, kOrigin, kp.secret_key);
  EXPECT_TRUE(note) << note.error().message;
  return note ? *note : std::string();
}

// --- The published example ---------------------------------------------------------

TEST(NoteTest, PublishedGoExampleVerifiesWithItsKey) {
  const VerifierKey peter = MustParseKey(kPeterKey);
  EXPECT_EQ(peter.name, "PeterNeumann");
  EXPECT_EQ(peter.key_id, 0xc74f20a3u);
  EXPECT_EQ(EncodeVerifierKey(peter), kPeterKey);
  Result<Note> note = ParseNote(GoNote());
  ASSERT_TRUE(note) << note.error().message;
  EXPECT_EQ(note->text, kGoText);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].key_name, "PeterNeumann");
  EXPECT_EQ(note->signatures[0].key_id, 0xc74f20a3u);
  EXPECT_EQ(note->signatures[0].signature.size(), kEd25519SignatureSize);
  Status s = VerifyNote(*note, peter);
  EXPECT_TRUE(s) << s.error().message;
  EXPECT_EQ(*EncodeNote(*note), GoNote());
}

TEST(NoteTest, SigningReproducesThePublishedGoSignatureByteForByte) {
  // Ed25519 is deterministic (RFC 8032), so the same seed and text must give
  // the very note of TestSign.
  const KeyPair kp = PeterKeyPair();
  Result<VerifierKey> key = VerifierKeyFromSecretKey("PeterNeumann", kp.secret_key);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(EncodeVerifierKey(*key), kPeterKey);
  Result<std::string> note = SignNote(kGoText, "PeterNeumann", kp.secret_key);
  ASSERT_TRUE(note) << note.error().message;
  EXPECT_EQ(*note, GoNote());
}

TEST(NoteTest, PublishedDoublySignedNoteVerifiesWithEitherKeyAndIgnoresTheOther) {
  const std::string both =
      std::string(kGoText) + "\n" + std::string(kPeterSig) + std::string(kEnochSig);
  Result<Note> note = ParseNote(both);
  ASSERT_TRUE(note) << note.error().message;
  ASSERT_EQ(note->signatures.size(), 2u);
  const VerifierKey enoch = MustParseKey(kEnochKey);
  EXPECT_TRUE(VerifyNote(*note, MustParseKey(kPeterKey)));
  EXPECT_TRUE(VerifyNote(*note, enoch));
  // Enoch alone.
  Result<Note> enoch_only = ParseNote(std::string(kGoText) + "\n" + std::string(kEnochSig));
  ASSERT_TRUE(enoch_only);
  Status s = VerifyNote(*enoch_only, MustParseKey(kPeterKey));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kTampered);
  EXPECT_EQ(s.error().message, "note: no signature by PeterNeumann+c74f20a3");
  // The example adds EnochRoot's signature with a key from an all-zero
  // reader; the key note_test.go lists is indeed that of the zero seed.
  Result<VerifierKey> zero = VerifierKeyFromSecretKey("EnochRoot", FromSeedByte(0).secret_key);
  ASSERT_TRUE(zero);
  EXPECT_EQ(EncodeVerifierKey(*zero), kEnochKey);
  Result<NoteSignature> sig = SignNoteText(kGoText, "EnochRoot", FromSeedByte(0).secret_key);
  ASSERT_TRUE(sig);
  EXPECT_EQ(*sig, note->signatures[1]);
}

TEST(NoteTest, PublishedInvalidSignatureIsTampered) {
  // TestOpen: four base64 characters spliced into Peter's signature.
  const std::string sig =
      std::string(kPeterSig.substr(0, 60)) + "ABCD" + std::string(kPeterSig.substr(60));
  Result<Note> note = ParseNote(std::string(kGoText) + "\n" + sig);
  ASSERT_TRUE(note) << note.error().message;
  Status s = VerifyNote(*note, MustParseKey(kPeterKey));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kTampered);
  EXPECT_EQ(s.error().message, "note: signature by PeterNeumann+c74f20a3 does not verify");
  // A bad signature by the trusted key spoils the note even beside a good one.
  Result<Note> mixed = ParseNote(std::string(kGoText) + "\n" + std::string(kPeterSig) + sig);
  ASSERT_TRUE(mixed);
  EXPECT_FALSE(VerifyNote(*mixed, MustParseKey(kPeterKey)));
}

TEST(NoteTest, PublishedMalformedNotesAreCorruption) {
  // TestOpen's badMsgs, and its too-many-signatures case.
  const std::string text(kGoText);
  const std::string sig(kPeterSig);
  const std::vector<std::string> bad = {
      text,
      text + "\n",
      text + "\n" + sig.substr(0, sig.size() - 1),
      "\x01" + text + "\n" + sig,
      "\xff" + text + "\n" + sig,
      text + "\n" +
          "— Bad Name "
          "x08go/ZJkuBS9UG/"
          "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      text + "\n" + sig + "Unexpected line.\n",
  };
  for (const std::string& note : bad) {
    Result<Note> parsed = ParseNote(note);
    ASSERT_FALSE(parsed) << note;
    EXPECT_EQ(parsed.error().code, Code::kCorruption) << note;
  }
  std::string many = text + "\n";
  for (int i = 0; i < 101; ++i) many += sig;
  Result<Note> parsed = ParseNote(many);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "note: 101 signatures, more than 100");
  std::string hundred = text + "\n";
  for (int i = 0; i < 100; ++i) hundred += sig;
  EXPECT_TRUE(ParseNote(hundred));
}

TEST(NoteTest, PublishedVerifierKeyManglingsAreRejected) {
  // TestNewVerifier: every proper substring and every single-byte increment.
  const std::string key(kPeterKey);
  for (std::size_t i = 0; i <= key.size(); ++i) {
    for (std::size_t j = i + 1; j <= key.size(); ++j) {
      if (i == 0 && j == key.size()) continue;
      ASSERT_FALSE(ParseVerifierKey(key.substr(i, j - i))) << key.substr(i, j - i);
    }
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    std::string bad = key;
    ++bad[i];
    ASSERT_FALSE(ParseVerifierKey(bad)) << bad;
  }
  // Wrong length key, and unknown algorithm, each with an adjusted key hash.
  EXPECT_FALSE(ParseVerifierKey(
      "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="));
  Result<VerifierKey> unknown =
      ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::kUnsupported);
}

// --- Checkpoints -------------------------------------------------------------------

TEST(CheckpointTest, EncodesTheSpecExampleBody) {
  // c2sp.org/tlog-checkpoint's example (its signing key is not published).
  const std::string body =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  Result<Checkpoint> cp = ParseCheckpoint(body);
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(*EncodeCheckpoint(*cp), body);
  Result<Note> note = ParseNote(body +
                                "\n— example.com/behind-the-sofa "
                                "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
                                "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n");
  ASSERT_TRUE(note) << note.error().message;
  EXPECT_EQ(note->text, body);
}

TEST(CheckpointTest, RoundTripsWithAndWithoutExtensions) {
  for (const Checkpoint& cp : {
           Checkpoint{"custodia.example/archive", 0, EmptyRoot(), {}},
           Checkpoint{"go.sum database tree", 1, SomeRoot(), {}},
           Checkpoint{"a", ~std::uint64_t{0}, SomeRoot(), {"ext one", "— two ✓"}},
       }) {
    Result<std::string> text = EncodeCheckpoint(cp);
    ASSERT_TRUE(text) << text.error().message;
    Result<Checkpoint> back = ParseCheckpoint(*text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, cp);
  }
  EXPECT_EQ(*EncodeCheckpoint(Checkpoint{"o", 18446744073709551615u, EmptyRoot(), {}}),
            "o\n18446744073709551615\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
}

TEST(CheckpointTest, MalformedBodiesAreCorruption) {
  const std::string root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"o\n1\n" + root, "checkpoint: last line has no newline"},
      {"o\n1\n", "checkpoint: 2 lines, fewer than 3"},
      {"", "checkpoint: 0 lines, fewer than 3"},
      {"\n1\n" + root + "\n", "checkpoint: line 1 is empty"},
      {" o\n1\n" + root + "\n", "checkpoint: origin: space at an end"},
      {"o \n1\n" + root + "\n", "checkpoint: origin: space at an end"},
      {"o\to\n1\n" + root + "\n", "checkpoint: control character 0x09 at byte 1"},
      {"o\r\n1\n" + root + "\n", "checkpoint: control character 0x0d at byte 1"},
      {"o\xc3\n1\n" + root + "\n", "checkpoint: invalid UTF-8 at byte 1"},
      {"o\xc0\xaf\n1\n" + root + "\n", "checkpoint: invalid UTF-8 at byte 1"},  // overlong "/"
      {"o\n01\n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n00\n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n+1\n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n-1\n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n1 \n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n0x10\n" + root + "\n", "checkpoint: tree size is not a canonical decimal number"},
      {"o\n18446744073709551616\n" + root + "\n",
       "checkpoint: tree size is not a canonical decimal number"},
      {"o\n\n" + root + "\n", "checkpoint: line 2 is empty"},
      {"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n",  // 31 bytes
       "checkpoint: root hash is not canonical base64 of 32 bytes"},
      {"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFVV\n",  // 33 bytes
       "checkpoint: root hash is not canonical base64 of 32 bytes"},
      {"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n",  // stray bits
       "checkpoint: root hash is not canonical base64 of 32 bytes"},
      {"o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",  // no padding
       "checkpoint: root hash is not canonical base64 of 32 bytes"},
      {"o\n1\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n",  // URL alphabet
       "checkpoint: root hash is not canonical base64 of 32 bytes"},
      {"o\n1\n" + root + "\n\n", "checkpoint: line 4 is empty"},
      {"o\n1\n" + root + "\next\n\n", "checkpoint: line 5 is empty"},
  };
  for (const auto& [text, message] : bad) {
    Result<Checkpoint> cp = ParseCheckpoint(text);
    ASSERT_FALSE(cp) << text;
    EXPECT_EQ(cp.error().code, Code::kCorruption) << text;
    EXPECT_EQ(cp.error().message, message) << text;
  }
  EXPECT_FALSE(ParseCheckpoint(std::string(kMaxNoteSize, 'a') + "\n1\n" + root + "\n"));
}

TEST(CheckpointTest, EncodeRefusesWhatParseWouldNotRead) {
  for (const Checkpoint& cp : {
           Checkpoint{"", 1, EmptyRoot(), {}},
           Checkpoint{" o", 1, EmptyRoot(), {}},
           Checkpoint{"evil\n999", 1, EmptyRoot(), {}},
           Checkpoint{"o\t", 1, EmptyRoot(), {}},
           Checkpoint{"o", 1, EmptyRoot(), {""}},
           Checkpoint{"o", 1, EmptyRoot(), {"a\nb"}},
       }) {
    Result<std::string> text = EncodeCheckpoint(cp);
    ASSERT_FALSE(text) << cp.origin;
    EXPECT_EQ(text.error().code, Code::kInvalidArgument);
  }
}

TEST(CheckpointTest, SignedCheckpointRoundTripsAndVerifies) {
  const KeyPair kp = FromSeedByte(7);
  const VerifierKey key = *MakeVerifierKey(kOrigin, kp.public_key);
  const std::string note = SignedCheckpoint(kp);
  EXPECT_TRUE(note.starts_with("custodia.example/archive\n8\n"));
  EXPECT_NE(note.find("\n\n— custodia.example/archive "), std::string::npos);
  Result<Checkpoint> cp = VerifyCheckpoint(note, kOrigin, key);
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_EQ(*cp, SomeCheckpoint());
  // Through the text forms of the key and the note.
  Result<VerifierKey> parsed = ParseVerifierKey(EncodeVerifierKey(key));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, key);
  Result<Note> n = ParseNote(note);
  ASSERT_TRUE(n);
  EXPECT_EQ(*EncodeNote(*n), note);
}

TEST(CheckpointTest, EveryBitFlipOfASignedCheckpointIsRejected) {
  const KeyPair kp = FromSeedByte(7);
  const VerifierKey key = *MakeVerifierKey(kOrigin, kp.public_key);
  const std::string note = SignedCheckpoint(kp);
  std::size_t corruption = 0;
  std::size_t tampered = 0;
  for (std::size_t i = 0; i < note.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = note;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      Result<Checkpoint> cp = VerifyCheckpoint(bad, kOrigin, key);
      ASSERT_FALSE(cp) << "byte " << i << " bit " << bit;
      ASSERT_TRUE(cp.error().code == Code::kCorruption || cp.error().code == Code::kTampered)
          << cp.error().message;
      ++(cp.error().code == Code::kCorruption ? corruption : tampered);
    }
  }
  EXPECT_GT(corruption, 0u);
  EXPECT_GT(tampered, 0u);
}

TEST(CheckpointTest, SignatureByAnotherKeyIsNotAccepted) {
  const KeyPair ours = FromSeedByte(7);
  const KeyPair theirs = FromSeedByte(8);
  const VerifierKey key = *MakeVerifierKey(kOrigin, ours.public_key);
  // Another key under our name: another key id, so an unknown key.
  Result<Checkpoint> cp = VerifyCheckpoint(SignedCheckpoint(theirs), kOrigin, key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, Code::kTampered);
  EXPECT_EQ(cp.error().message, "note: no signature by custodia.example/archive+1a10537f");
  // Their signature line relabelled with our key id: known key, bad signature.
  Result<Note> note = ParseNote(SignedCheckpoint(theirs));
  ASSERT_TRUE(note);
  note->signatures[0].key_id = key.key_id;
  cp = VerifyCheckpoint(*EncodeNote(*note), kOrigin, key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().message,
            "note: signature by custodia.example/archive+1a10537f does not verify");
  // Our key under another name is another key too.
  Result<std::string> renamed =
      SignNote(*EncodeCheckpoint(SomeCheckpoint()), "someone.else/archive", ours.secret_key);
  ASSERT_TRUE(renamed);
  EXPECT_FALSE(VerifyCheckpoint(*renamed, kOrigin, key));
  // Theirs beside ours: ours is what counts.
  Result<Note> both = ParseNote(SignedCheckpoint(ours));
  ASSERT_TRUE(both);
  both->signatures.push_back(*SignNoteText(both->text, kOrigin, theirs.secret_key));
  EXPECT_TRUE(VerifyCheckpoint(*EncodeNote(*both), kOrigin, key));
}

TEST(CheckpointTest, OtherOriginIsTampered) {
  const KeyPair kp = FromSeedByte(7);
  const VerifierKey key = *MakeVerifierKey(kOrigin, kp.public_key);
  Result<Checkpoint> cp = VerifyCheckpoint(SignedCheckpoint(kp), "custodia.example/other", key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, Code::kTampered);
  EXPECT_EQ(
      cp.error().message,
      "checkpoint: origin is \"custodia.example/archive\", expected \"custodia.example/other\"");
}

TEST(CheckpointTest, WellSignedMalformedBodyIsCorruption) {
  const KeyPair kp = FromSeedByte(7);
  const VerifierKey key = *MakeVerifierKey(kOrigin, kp.public_key);
  Result<std::string> note =
      SignNote("custodia.example/archive\n007\nxyz\n", kOrigin, kp.secret_key);
  ASSERT_TRUE(note);
  Result<Checkpoint> cp = VerifyCheckpoint(*note, kOrigin, key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, Code::kCorruption);
}

// --- Notes: strict parsing -------------------------------------------------------------

TEST(NoteTest, MalformedNotesAreCorruption) {
  const KeyPair kp = FromSeedByte(7);
  const std::string good = SignedCheckpoint(kp);
  const std::size_t split = good.rfind("\n\n");
  const std::string text = good.substr(0, split + 1);
  const std::string line = good.substr(split + 2);  // "— name b64\n"
  const std::string b64 = line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {text + line, "note: no blank line before the signatures"},
      {text + "\n", "note: no signatures"},
      {text + "\n" + line.substr(0, line.size() - 1), "note: last signature line has no newline"},
      {text + "\n" + line + line.substr(0, line.size() - 1),
       "note: last signature line has no newline"},
      {text + "\n- " + std::string(kOrigin) + " " + b64 + "\n",
       "note: signature line 1: does not start with an em dash and a space"},
      {text + "\n—" + std::string(kOrigin) + " " + b64 + "\n",
       "note: signature line 1: does not start with an em dash and a space"},
      {text + "\n— " + std::string(kOrigin) + b64 + "\n",
       "note: signature line 1: no space after the key name"},
      {text + "\n—  " + b64 + "\n", "note: signature line 1: invalid key name"},
      {text + "\n— a+b " + b64 + "\n", "note: signature line 1: invalid key name"},
      {text +
           "\n— a\xc2\xa0"
           "b " +
           b64 + "\n",
       "note: signature line 1: invalid key name"},  // NBSP
      {text +
           "\n— a\xe3\x80\x80"
           "b " +
           b64 + "\n",
       "note: signature line 1: invalid key name"},
      {text + "\n— o " + b64 + " \n", "note: signature line 1: signature is not canonical base64"},
      {text + "\n— o  " + b64 + "\n", "note: signature line 1: signature is not canonical base64"},
      {text + "\n— o " + b64.substr(1) + "\n",
       "note: signature line 1: signature is not canonical base64"},
      {text + "\n— o !" + b64.substr(1) + "\n",
       "note: signature line 1: signature is not canonical base64"},
      {text + "\n— o \n", "note: signature line 1: signature shorter than 5 bytes"},
      {text + "\n— o AAAAAA==\n", "note: signature line 1: signature shorter than 5 bytes"},
      {text + "\n" + line + "\n", "note: no signatures"},  // blank line after: text is all of it
      {text + "\n" + line + "x\n",
       "note: signature line 2: does not start with an em dash and a space"},
      {"a\tb\n\n" + line, "note: control character 0x09 at byte 1"},
      {"a\rb\n\n" + line, "note: control character 0x0d at byte 1"},
      {"a\0b\n\n"s + line, "note: control character 0x00 at byte 1"},
      {"a\xed\xa0\x80"
       "b\n\n" +
           line,
       "note: invalid UTF-8 at byte 1"},  // a surrogate
      {"a\xf4\x90\x80\x80"
       "b\n\n" +
           line,
       "note: invalid UTF-8 at byte 1"},  // > U+10FFFF
      {"a" + line.substr(0, 2) + "\n\n" + line,
       "note: invalid UTF-8 at byte 1"},  // truncated em dash
  };
  for (const auto& [note, message] : bad) {
    Result<Note> parsed = ParseNote(note);
    ASSERT_FALSE(parsed) << note;
    EXPECT_EQ(parsed.error().code, Code::kCorruption) << note;
    EXPECT_EQ(parsed.error().message, message) << note;
  }
}

TEST(NoteTest, SizeLimitIsOneMebibyte) {
  const KeyPair kp = FromSeedByte(7);
  const std::string line = SignedCheckpoint(kp).substr(SignedCheckpoint(kp).rfind("\n\n") + 2);
  std::string text(kMaxNoteSize - 1 - line.size(), 'a');
  text.back() = '\n';
  EXPECT_EQ((text + "\n" + line).size(), kMaxNoteSize);
  EXPECT_TRUE(ParseNote(text + "\n" + line));
  Result<Note> parsed = ParseNote("a" + text + "\n" + line);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, Code::kCorruption);
  EXPECT_EQ(parsed.error().message, "note: 1048577 bytes, more than the 1048576-byte limit");
}

TEST(NoteTest, TextMayHoldBlankLinesAndUnicode) {
  const KeyPair kp = FromSeedByte(7);
  const std::string text = "línea uno\n\nlínea — tres ✓\n";
  Result<std::string> note = SignNote(text, "archivo.example", kp.secret_key);
  ASSERT_TRUE(note) << note.error().message;
  Result<Note> parsed = ParseNote(*note);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->text, text);
  EXPECT_TRUE(VerifyNote(*parsed, *VerifierKeyFromSecretKey("archivo.example", kp.secret_key)));
}

TEST(NoteTest, SignRefusesBadTextNamesAndKeys) {
  const KeyPair kp = FromSeedByte(7);
  EXPECT_EQ(SignNote("no newline", "k", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("", "k", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("tab\there\n", "k", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("x\n", "", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("x\n", "a b", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("x\n", "a+b", kp.secret_key).error().code, Code::kInvalidArgument);
  EXPECT_EQ(SignNote("x\n", "k", std::span(kp.secret_key).first(32)).error().code,
            Code::kInvalidArgument);
  // A secret key whose public half belongs to another seed.
  std::array<std::uint8_t, kEd25519SecretKeySize> mismatched = kp.secret_key;
  const KeyPair other = FromSeedByte(8);
  std::copy(other.public_key.begin(), other.public_key.end(), mismatched.begin() + 32);
  Result<std::string> note = SignNote("x\n", "k", mismatched);
  ASSERT_FALSE(note);
  EXPECT_EQ(note.error().message,
            "note: the secret key's seed and public key do not match; not signing");
}

TEST(NoteTest, VerifierKeysRejectBadPoints) {
  std::array<std::uint8_t, 32> zero{};  // the identity: small order
  EXPECT_FALSE(MakeVerifierKey("k", zero));
  std::array<std::uint8_t, 32> ones;
  ones.fill(0xff);  // not canonical
  EXPECT_FALSE(MakeVerifierKey("k", ones));
  const KeyPair kp = FromSeedByte(1);
  EXPECT_FALSE(MakeVerifierKey("k", std::span(kp.public_key).first(31)));
  EXPECT_TRUE(MakeVerifierKey("k", kp.public_key));
  EXPECT_FALSE(MakeVerifierKey("", kp.public_key));
  EXPECT_FALSE(MakeVerifierKey("a+b", kp.public_key));
}

// --- tlog proofs ---------------------------------------------------------------------

struct ProofFixture {
  MerkleTree tree;
  KeyPair kp = FromSeedByte(9);
  VerifierKey key;
  std::string checkpoint;

  ProofFixture() {
    for (int i = 0; i < 13; ++i) {
      const std::string leaf = "entry " + std::to_string(i);
      tree.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()}));
    }
    key = *MakeVerifierKey(kOrigin, kp.public_key);
    checkpoint =
        SignedCheckpoint(kp, Checkpoint{std::string(kOrigin), tree.size(), tree.Root(), {}});
  }

  TlogProof ProofOf(std::uint64_t index) const {
    return TlogProof{std::nullopt, index, *tree.InclusionProof(index, tree.size()), checkpoint};
  }
};

TEST(TlogProofTest, RoundTripsAndVerifiesForEveryLeaf) {
  const ProofFixture f;
  for (std::uint64_t i = 0; i < f.tree.size(); ++i) {
    TlogProof proof = f.ProofOf(i);
    if (i % 2 == 1) proof.extra = std::vector<std::uint8_t>{1, 2, 3, static_cast<std::uint8_t>(i)};
    Result<std::string> text = EncodeTlogProof(proof);
    ASSERT_TRUE(text) << text.error().message;
    Result<TlogProof> back = ParseTlogProof(*text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, proof);
    Result<Checkpoint> cp = VerifyTlogProof(*back, f.tree.leaf(i), kOrigin, f.key);
    ASSERT_TRUE(cp) << cp.error().message;
    EXPECT_EQ(cp->size, f.tree.size());
    Result<Checkpoint> wrong =
        VerifyTlogProof(*back, f.tree.leaf((i + 1) % f.tree.size()), kOrigin, f.key);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, Code::kTampered);
  }
}

TEST(TlogProofTest, TextHasTheSpecLayout) {
  const ProofFixture f;
  TlogProof proof = f.ProofOf(0);
  proof.extra = std::vector<std::uint8_t>{'h', 'i'};
  const std::string text = *EncodeTlogProof(proof);
  std::string want = "c2sp.org/tlog-proof@v1\nextra aGk=\nindex 0\n";
  for (const Hash& h : proof.proof) {
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, h.data(), h.size(), sodium_base64_VARIANT_ORIGINAL);
    want += std::string(b64) + "\n";
  }
  want += "\n" + f.checkpoint;
  EXPECT_EQ(text, want);
}

TEST(TlogProofTest, EveryBitFlipIsRejected) {
  const ProofFixture f;
  const std::uint64_t index = 6;
  const std::string text = *EncodeTlogProof(f.ProofOf(index));
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = text;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      Result<TlogProof> proof = ParseTlogProof(bad);
      if (!proof) {
        ASSERT_EQ(proof.error().code, Code::kCorruption);
        continue;
      }
      Result<Checkpoint> cp = VerifyTlogProof(*proof, f.tree.leaf(index), kOrigin, f.key);
      ASSERT_FALSE(cp) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(TlogProofTest, MalformedProofsAreCorruption) {
  const ProofFixture f;
  const std::string text = *EncodeTlogProof(f.ProofOf(6));
  const std::size_t body = text.find("index 6\n") + 8;
  const std::string hashes = text.substr(body, text.find("\n\n", body) + 1 - body);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "tlog-proof: first line is not \"c2sp.org/tlog-proof@v1\""},
      {"c2sp.org/tlog-proof@v2\n" + text.substr(23),
       "tlog-proof: first line is not \"c2sp.org/tlog-proof@v1\""},
      {"c2sp.org/tlog-proof@v1\nindex 06\n" + hashes + "\n" + f.checkpoint,
       "tlog-proof: index is not a canonical decimal number"},
      {"c2sp.org/tlog-proof@v1\nindex -6\n" + hashes + "\n" + f.checkpoint,
       "tlog-proof: index is not a canonical decimal number"},
      {"c2sp.org/tlog-proof@v1\nindex  6\n" + hashes + "\n" + f.checkpoint,
       "tlog-proof: index is not a canonical decimal number"},
      {"c2sp.org/tlog-proof@v1\n" + hashes + "\n" + f.checkpoint, "tlog-proof: no index line"},
      {"c2sp.org/tlog-proof@v1\nextra !!\nindex 6\n" + hashes + "\n" + f.checkpoint,
       "tlog-proof: extra data is not canonical base64"},
      {"c2sp.org/tlog-proof@v1\nindex 6\n" + hashes + "AAAA\n\n" + f.checkpoint,
       "tlog-proof: hash 5 is not canonical base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 6\n" + hashes,
       "tlog-proof: no blank line before the checkpoint"},
      {"c2sp.org/tlog-proof@v1\nindex 6\n" + hashes + "\n",
       "tlog-proof: checkpoint: note: no blank line before the signatures"},
      {"c2sp.org/tlog-proof@v1\nindex 6\n" + hashes + "\n" + f.checkpoint + "x",
       "tlog-proof: checkpoint: note: last signature line has no newline"},
  };
  for (const auto& [proof, message] : bad) {
    Result<TlogProof> parsed = ParseTlogProof(proof);
    ASSERT_FALSE(parsed) << proof;
    EXPECT_EQ(parsed.error().code, Code::kCorruption) << proof;
    EXPECT_EQ(parsed.error().message, message) << proof;
  }
  std::string many = "c2sp.org/tlog-proof@v1\nindex 6\n";
  for (int i = 0; i < 65; ++i) many += hashes.substr(0, 45);
  Result<TlogProof> parsed = ParseTlogProof(many + "\n" + f.checkpoint);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "tlog-proof: more than 64 hashes");
}

TEST(TlogProofTest, IndexBeyondTheCheckpointIsInvalidArgument) {
  const ProofFixture f;
  TlogProof proof = f.ProofOf(3);
  proof.index = f.tree.size();
  Result<Checkpoint> cp = VerifyTlogProof(proof, f.tree.leaf(3), kOrigin, f.key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, Code::kInvalidArgument);
  EXPECT_EQ(cp.error().message,
            "tlog-proof: merkle: inclusion proof for leaf 13 of size 13: leaf beyond the tree");
}

TEST(TlogProofTest, CheckpointSignedByAnotherKeyIsTampered) {
  const ProofFixture f;
  TlogProof proof = f.ProofOf(3);
  proof.checkpoint =
      SignedCheckpoint(FromSeedByte(10), *ParseCheckpoint(ParseNote(f.checkpoint)->text));
  Result<Checkpoint> cp = VerifyTlogProof(proof, f.tree.leaf(3), kOrigin, f.key);
  ASSERT_FALSE(cp);
  EXPECT_EQ(cp.error().code, Code::kTampered);
}

}  // namespace
}  // namespace custodia::vault::tlog
