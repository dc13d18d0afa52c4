// vault/checkpoint.h (internal): signed checkpoints of the ledger's Merkle
// tree in the C2SP formats, so that any tlog tool can read and check them:
//   c2sp.org/signed-note      text signed by Ed25519 keys ("— name base64\n")
//   c2sp.org/tlog-checkpoint  the note text of a tree head (origin, size, root)
//   c2sp.org/tlog-proof       an inclusion proof bundled with its checkpoint
// Verifier keys use the "<name>+<8 hex key id>+<base64(0x01 || key)>" form of
// golang.org/x/mod/sumdb/note. No libsodium type appears here.
//
// Error codes: malformed input to a Parse function is kCorruption; malformed
// arguments to an Encode or Sign function, and a malformed verifier key,
// are kInvalidArgument; a well-formed note, checkpoint or proof that does
// not verify is kTampered.
#ifndef CUSTODIA_VAULT_CHECKPOINT_H_
#define CUSTODIA_VAULT_CHECKPOINT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "vault/merkle.h"

namespace custodia::vault::tlog {

// Limits of ParseNote. signed-note asks verifiers for a limit and at least
// 16 signatures; 100 is golang.org/x/mod/sumdb/note's.
inline constexpr std::size_t kMaxNoteSize = 1 << 20;  // bytes, signatures included
inline constexpr std::size_t kMaxNoteSignatures = 100;

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SecretKeySize = 64;  // libsodium's: seed || public key
inline constexpr std::size_t kEd25519SignatureSize = 64;
inline constexpr std::uint8_t kEd25519SignatureType = 0x01;  // signed-note's type byte

// --- Checkpoints (c2sp.org/tlog-checkpoint) ---------------------------------

// A tree head. As text (the note text that gets signed):
//   <origin>\n<size in decimal>\n<base64 root>\n<extension line>\n...
struct Checkpoint {
  std::string origin;  // names the log; custodia uses the archive's name
  std::uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // opaque lines, without "\n"; NOT RECOMMENDED

  bool operator==(const Checkpoint&) const = default;
};

// The checkpoint's note text. kInvalidArgument if the origin is empty, has a
// space at either end, or holds a newline or another control character, or
// if an extension line is empty or holds one.
Result<std::string> EncodeCheckpoint(const Checkpoint& checkpoint);

// Parses a checkpoint's note text, strictly: every line ends in "\n", none is
// empty; origin as above (inner spaces are allowed: the Go checksum
// database's origin is "go.sum database tree"); the size is canonical
// decimal ("0" or no leading zero) and fits 64 bits; the root is canonical
// base64 of exactly 32 bytes. kCorruption otherwise.
// WARNING: the text of a note means nothing until VerifyNote has accepted
// it; use VerifyCheckpoint, not this, on a checkpoint from a file.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

// --- Signed notes (c2sp.org/signed-note) ------------------------------------

struct NoteSignature {
  std::string key_name;
  std::uint32_t key_id = 0;             // big-endian on the wire
  std::vector<std::uint8_t> signature;  // the bytes after the key id

  bool operator==(const NoteSignature&) const = default;
};

// text ("\n"-terminated) "\n" then one "— <key name> <base64(key id || sig)>\n"
// line per signature.
struct Note {
  std::string text;
  std::vector<NoteSignature> signatures;

  bool operator==(const Note&) const = default;
};

// Parses a signed note, strictly: at most kMaxNoteSize bytes; valid UTF-8
// with no control character but "\n"; a blank line (the last one) between the
// text and 1..kMaxNoteSignatures signature lines, each ending in "\n"; key
// names non-empty, without Unicode spaces or "+"; canonical base64 of at
// least 5 bytes. Signatures by unknown algorithms are kept (and ignored by
// VerifyNote), as the spec requires. kCorruption otherwise. Checks no
// signature: see VerifyNote.
Result<Note> ParseNote(std::string_view note);

// The note's bytes. kInvalidArgument if it has no signature, if its text does
// not end in "\n" or has control characters other than "\n", or if a key
// name is invalid.
Result<std::string> EncodeNote(const Note& note);

// --- Keys --------------------------------------------------------------------

// A trusted Ed25519 public key and the name it signs under.
struct VerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, kEd25519PublicKeySize> public_key{};

  bool operator==(const VerifierKey&) const = default;
};

// signed-note's Ed25519 key id: the first 4 bytes, big-endian, of
// SHA-256(name || "\n" || 0x01 || public key).
std::uint32_t Ed25519KeyId(std::string_view name,
                           std::span<const std::uint8_t, kEd25519PublicKeySize> public_key);

// A verifier key for `public_key` under `name`. kInvalidArgument if the name
// is invalid (empty, a Unicode space or "+") or the key is not a valid
// Ed25519 point.
Result<VerifierKey> MakeVerifierKey(std::string_view name,
                                    std::span<const std::uint8_t> public_key);

// The verifier key of a libsodium Ed25519 secret key (kEd25519SecretKeySize
// bytes). kInvalidArgument as MakeVerifierKey, or for a wrong size.
Result<VerifierKey> VerifierKeyFromSecretKey(std::string_view name,
                                             std::span<const std::uint8_t> secret_key);

// "<name>+<key id, 8 lower-case hex digits>+<base64(0x01 || public key)>".
std::string EncodeVerifierKey(const VerifierKey& key);

// Parses the form above. kInvalidArgument if it is malformed, if the key id
// is not the one the name and key give, or if the key is not a valid Ed25519
// point; kUnsupported for a signature type other than Ed25519.
Result<VerifierKey> ParseVerifierKey(std::string_view text);

// --- Signing and verifying -----------------------------------------------------

// Signs `text` (the note text: "\n"-terminated, the bytes that are signed)
// with the libsodium Ed25519 `secret_key`, under `key_name`. The signature is
// checked against the key's public half before it is returned, so a damaged
// key cannot sign. kInvalidArgument if the text, the name or the key's size
// is not acceptable, or the key's halves do not match.
// WARNING: `secret_key` is read in place and never copied; keep it in
// sodium_malloc'd memory (SecretKey), never in a std::string or vector.
Result<NoteSignature> SignNoteText(std::string_view text, std::string_view key_name,
                                   std::span<const std::uint8_t> secret_key);

// SignNoteText, then the whole note with that one signature.
Result<std::string> SignNote(std::string_view text, std::string_view key_name,
                             std::span<const std::uint8_t> secret_key);

// OK if `note` has at least one signature by `key` (same name and key id)
// and every signature by `key` verifies over the note's text. Signatures by
// other keys, even with the same name or the same id, are ignored
// (signed-note). kTampered otherwise.
Status VerifyNote(const Note& note, const VerifierKey& key);

// Encodes `checkpoint` and signs it: a signed checkpoint, ready to save.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view key_name,
                                   std::span<const std::uint8_t> secret_key);

// Parses a signed checkpoint, checks its signature by `key`, then parses its
// text and checks that it is for `origin`. kCorruption if malformed;
// kTampered if the signature does not verify or the origin differs.
Result<Checkpoint> VerifyCheckpoint(std::string_view signed_checkpoint, std::string_view origin,
                                    const VerifierKey& key);

// --- Inclusion proofs (c2sp.org/tlog-proof@v1) --------------------------------

//   c2sp.org/tlog-proof@v1\n
//   extra <base64 of opaque extra data>\n        (optional)
//   index <decimal leaf index>\n
//   <base64 hash>\n ...                           (the audit path, leaf level first)
//   \n
//   <signed checkpoint, verbatim>
struct TlogProof {
  std::optional<std::vector<std::uint8_t>> extra;  // not authenticated: never trust it
  std::uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // a signed note

  bool operator==(const TlogProof&) const = default;
};

// kInvalidArgument if the checkpoint is not a well-formed signed note or the
// path has more than 64 hashes.
Result<std::string> EncodeTlogProof(const TlogProof& proof);

// Parses the form above, strictly (canonical decimal and base64, 32-byte
// hashes, at most 64 of them, every line ending in "\n", the checkpoint a
// well-formed signed note). kCorruption otherwise.
Result<TlogProof> ParseTlogProof(std::string_view text);

// Checks the proof's checkpoint with VerifyCheckpoint(origin, key), then that
// its path proves `leaf_hash` at its index in that checkpoint's tree.
// Returns the checkpoint. kCorruption, kTampered as VerifyCheckpoint;
// kInvalidArgument if the index is beyond the tree; kTampered if the path
// does not verify.
Result<Checkpoint> VerifyTlogProof(const TlogProof& proof, const Hash& leaf_hash,
                                   std::string_view origin, const VerifierKey& key);

}  // namespace custodia::vault::tlog

#endif  // CUSTODIA_VAULT_CHECKPOINT_H_
