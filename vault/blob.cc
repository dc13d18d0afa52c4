// vault/blob.cc: encode and decode encrypted blobs. The byte layout is in
// docs/vault_format.md; keep the two in step.
#include "vault/blob.h"

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "vault/coding.h"

namespace custodia::vault {
namespace {

constexpr std::string_view kBlobMagic = "CUSTBLOB";
// magic:8 version:u32le kind:u8 plaintext_size:u64le id_size:u8, then the id.
constexpr std::size_t kLabelFixedSize = 8 + 4 + 1 + 8 + 1;
constexpr std::size_t kStreamHeaderSize = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kChunkOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;

static_assert(kStreamHeaderSize == 24 && kChunkOverhead == 17,
              "docs/vault_format.md describes these sizes");

// Holds a secretstream state (which contains the stream's subkey) and wipes
// it on every path out of the scope.
class StreamState {
 public:
  StreamState() = default;
  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;
  ~StreamState() { sodium_memzero(&state_, sizeof state_); }
  crypto_secretstream_xchacha20poly1305_state* get() { return &state_; }

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
};


bool ValidDocId(std::string_view id) { return !id.empty() && id.size() <= kMaxDocIdSize; }

// Chunks for `size` plaintext bytes: at least one, so that even an empty
// blob ends with an authenticated TAG_FINAL chunk.
std::uint64_t ChunkCount(std::uint64_t size) {
  return size == 0 ? 1 : (size + kChunkSize - 1) / kChunkSize;
}

std::string Describe(const BlobLabel& label) {
  return label.doc_id + " " + KindName(label.kind) + " of " + std::to_string(label.plaintext_size) +
         " bytes";
}

Bytes EncodeLabel(const BlobLabel& label) {
  Bytes out;
  out.reserve(kLabelFixedSize + label.doc_id.size());
  PutString(out, kBlobMagic);
  PutU32(out, kBlobVersion);
  out.push_back(static_cast<std::uint8_t>(label.kind));
  PutU64(out, label.plaintext_size);
  out.push_back(static_cast<std::uint8_t>(label.doc_id.size()));
  PutString(out, label.doc_id);
  return out;
}

struct ParsedLabel {
  BlobLabel label;
  std::size_t size = 0;  // bytes of the label on disk
};

Result<ParsedLabel> ParseLabel(std::span<const std::uint8_t> blob) {
  if (blob.size() < kLabelFixedSize) {
    return Fail(Code::kCorruption, "label incomplete (" + std::to_string(blob.size()) + " bytes)");
  }
  if (std::memcmp(blob.data(), kBlobMagic.data(), kBlobMagic.size()) != 0) {
    return Fail(Code::kCorruption, "not a custodia blob (bad magic)");
  }
  const std::uint32_t version = GetU32(blob.data() + 8);
  if (version != kBlobVersion) {
    return Fail(Code::kCorruption,
                "blob format version " + std::to_string(version) + " is not supported");
  }
  const std::uint8_t kind = blob[12];
  if (kind == 0 || kind > kMaxBlobKind) {
    return Fail(Code::kCorruption, "unknown artefact kind " + std::to_string(kind));
  }
  const std::uint64_t plaintext_size = GetU64(blob.data() + 13);
  const std::size_t id_size = blob[21];
  if (id_size == 0 || id_size > kMaxDocIdSize || blob.size() < kLabelFixedSize + id_size) {
    return Fail(Code::kCorruption, "bad document id in label");
  }
  ParsedLabel parsed;
  parsed.label.doc_id.assign(reinterpret_cast<const char*>(blob.data()) + kLabelFixedSize, id_size);
  parsed.label.kind = static_cast<BlobKind>(kind);
  parsed.label.plaintext_size = plaintext_size;
  parsed.size = kLabelFixedSize + id_size;
  return parsed;
}

// Parses the label, checks it against `expected` and checks the length of
// the whole blob. Returns the label's size on disk.
Result<std::size_t> CheckLabelAndSize(std::span<const std::uint8_t> blob,
                                      const BlobLabel& expected) {
  CU_ASSIGN_OR_RETURN(ParsedLabel parsed, ParseLabel(blob));
  const BlobLabel& got = parsed.label;
  if (got.doc_id != expected.doc_id || got.kind != expected.kind ||
      got.plaintext_size != expected.plaintext_size) {
    return Fail(Code::kTampered,
                "labelled as " + Describe(got) + ", expected " + Describe(expected));
  }
  // The plaintext cannot be longer than the file; checking this first keeps
  // the arithmetic below far from overflow.
  const std::uint64_t size = got.plaintext_size;
  if (size > blob.size()) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) +
                                     " bytes, too short for its label (truncated)");
  }
  const std::uint64_t want =
      parsed.size + kStreamHeaderSize + size + ChunkCount(size) * kChunkOverhead;
  if (blob.size() < want) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) + " bytes, expected " +
                                     std::to_string(want) + " (truncated)");
  }
  if (blob.size() > want) {
    return Fail(Code::kTampered, "blob is " + std::to_string(blob.size()) + " bytes, expected " +
                                     std::to_string(want) + " (trailing bytes)");
  }
  return parsed.size;
}

}  // namespace

namespace {

// Encrypts segments of a blob in order: the label and stream header first,
// then kStreamSegment plaintext bytes per call.
class BlobEncoder {
 public:
  // The plaintext is `plaintext`, or, when `source` is given, what it reads
  // (label.plaintext_size bytes), a segment at a time.
  BlobEncoder(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
              const BlobSource* source, const SecretKey& key)
      : plaintext_(plaintext),
        source_(source),
        size_(label.plaintext_size),
        label_bytes_(EncodeLabel(label)),
        chunks_(ChunkCount(label.plaintext_size)) {
    CU_CHECK(InitCrypto());
    CU_CHECK(source != nullptr || label.plaintext_size == plaintext.size());
    CU_CHECK(ValidDocId(label.doc_id));
    head_ = label_bytes_;
    head_.resize(label_bytes_.size() + kStreamHeaderSize);
    crypto_secretstream_xchacha20poly1305_init_push(state_.get(), head_.data() + label_bytes_.size(),
                                                    key.bytes().data());
  }

  // The label and the stream header.
  std::span<const std::uint8_t> head() const { return head_; }
  bool done() const { return next_chunk_ == chunks_; }

  // Encrypts the next segment (up to 16 chunks) into `out`, resized to fit.
  // Fails only when the source does.
  Status Next(Bytes& out) {
    const std::size_t first = next_chunk_;
    const std::size_t last = std::min(chunks_, first + kStreamSegment / kChunkSize);
    const std::size_t begin = first * kChunkSize;
    const std::size_t end = std::min<std::uint64_t>(size_, last * kChunkSize);
    if (source_ != nullptr) {
      read_.resize(end - begin);
      CU_TRY((*source_)(read_));
    }
    out.resize(end - begin + (last - first) * kChunkOverhead);
    static const std::uint8_t kNothing = 0;  // a valid pointer for empty input
    std::size_t pos = 0;
    for (std::size_t i = first; i < last; ++i) {
      const std::size_t in = i * kChunkSize;
      const std::size_t n = std::min<std::uint64_t>(kChunkSize, size_ - in);
      const std::uint8_t* from = n == 0                ? &kNothing
                                 : source_ != nullptr ? read_.data() + (in - begin)
                                                      : plaintext_.data() + in;
      const bool final = i + 1 == chunks_;
      // The label is the additional data of the first chunk only: that binds
      // it to the stream, whose later chunks are bound to the first by the
      // stream's own nonce sequence.
      unsigned long long written = 0;
      crypto_secretstream_xchacha20poly1305_push(
          state_.get(), out.data() + pos, &written, from, n,
          i == 0 ? label_bytes_.data() : nullptr, i == 0 ? label_bytes_.size() : 0,
          final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
      pos += static_cast<std::size_t>(written);
    }
    CU_CHECK(pos == out.size());
    next_chunk_ = last;
    return Ok();
  }

 private:
  std::span<const std::uint8_t> plaintext_;
  const BlobSource* source_;
  const std::uint64_t size_;
  Bytes read_;  // the segment's plaintext, when read from source_
  Bytes label_bytes_;
  Bytes head_;
  const std::size_t chunks_;
  std::size_t next_chunk_ = 0;
  StreamState state_;
};

// The pipelined stream: this thread encrypts into a few rotating buffers,
// a second one hashes them and hands them to the sink, in order.
Result<Hash> StreamPipelined(BlobEncoder& encoder, Hasher& hasher, const BlobSink& sink) {
  constexpr int kBuffers = 3;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Bytes> free_buffers(kBuffers);
  std::deque<Bytes> full;
  bool producer_done = false;
  Status failure = Ok();  // guarded by mu; set by the consumer

  std::thread consumer([&] {
    for (;;) {
      Bytes segment;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !full.empty() || producer_done; });
        if (full.empty()) return;
        segment = std::move(full.front());
        full.pop_front();
      }
      hasher.Update(segment);
      Status s = sink(segment);
      std::lock_guard lock(mu);
      free_buffers.push_back(std::move(segment));
      if (!s) {
        failure = std::move(s);
        full.clear();
        producer_done = true;  // nothing more will be taken
        cv.notify_all();
        return;
      }
      cv.notify_all();
    }
  });
  while (!encoder.done()) {
    Bytes buffer;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !free_buffers.empty() || !failure; });
      if (!failure) break;
      buffer = std::move(free_buffers.back());
      free_buffers.pop_back();
    }
    Status encoded = encoder.Next(buffer);
    std::lock_guard lock(mu);
    if (!encoded && failure) failure = std::move(encoded);
    if (!failure) break;
    full.push_back(std::move(buffer));
    cv.notify_all();
  }
  {
    std::lock_guard lock(mu);
    producer_done = true;
    cv.notify_all();
  }
  consumer.join();
  if (!failure) return Unexpected{failure.error()};
  return hasher.Final();
}

}  // namespace

const char* KindName(BlobKind kind) {
  switch (kind) {
    case BlobKind::kOriginal:
      return "original";
    case BlobKind::kText:
      return "text";
    case BlobKind::kHocr:
      return "hocr";
    case BlobKind::kPdf:
      return "pdf";
    case BlobKind::kFields:
      return "fields";
  }
  return "unknown";
}

namespace {

Result<Hash> Stream(BlobEncoder& encoder, const BlobSink& sink, bool pipelined) {
  Hasher hasher;
  hasher.Update(encoder.head());
  CU_TRY(sink(encoder.head()));
  if (pipelined) return StreamPipelined(encoder, hasher, sink);
  Bytes segment;
  while (!encoder.done()) {
    CU_TRY(encoder.Next(segment));
    hasher.Update(segment);
    CU_TRY(sink(segment));
  }
  return hasher.Final();
}

}  // namespace

Result<Hash> StreamBlob(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
                        const SecretKey& key, const BlobSink& sink, bool pipelined) {
  BlobEncoder encoder(label, plaintext, nullptr, key);
  return Stream(encoder, sink, pipelined);
}

Result<Hash> StreamBlob(const BlobLabel& label, const BlobSource& source, const SecretKey& key,
                        const BlobSink& sink, bool pipelined) {
  BlobEncoder encoder(label, {}, &source, key);
  return Stream(encoder, sink, pipelined);
}

Bytes EncodeBlob(const BlobLabel& label, std::span<const std::uint8_t> plaintext,
                 const SecretKey& key) {
  Bytes out;
  out.reserve(kLabelFixedSize + label.doc_id.size() + kStreamHeaderSize + plaintext.size() +
              ChunkCount(plaintext.size()) * kChunkOverhead);
  auto name = StreamBlob(label, plaintext, key, [&](std::span<const std::uint8_t> piece) {
    out.insert(out.end(), piece.begin(), piece.end());
    return Ok();
  });
  CU_CHECK(name.has_value());
  return out;
}

Status CheckBlobShape(std::span<const std::uint8_t> blob, const BlobLabel& expected) {
  CU_TRY(CheckLabelAndSize(blob, expected));
  return Ok();
}

Result<Bytes> DecodeBlob(std::span<const std::uint8_t> blob, const BlobLabel& expected,
                         const SecretKey& key) {
  CU_TRY(InitCrypto());
  // The size check makes the per-chunk checks below unreachable for a blob
  // that is merely cut or extended; they stay as the format's own rules
  // (TAG_FINAL last, then end of file), checked on what we decrypt.
  CU_ASSIGN_OR_RETURN(const std::size_t label_size, CheckLabelAndSize(blob, expected));
  const std::size_t size = expected.plaintext_size;
  const std::size_t chunks = ChunkCount(size);

  StreamState state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(state.get(), blob.data() + label_size,
                                                      key.bytes().data()) != 0) {
    return Fail(Code::kTampered, "bad stream header");
  }
  Bytes out(size);
  std::uint8_t scratch = 0;  // a valid pointer for empty chunks
  std::size_t produced = 0;
  std::size_t pos = label_size + kStreamHeaderSize;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t n = std::min(kChunkSize, size - produced);
    const std::size_t want = n + kChunkOverhead;
    const std::string where = "chunk " + std::to_string(i + 1) + " of " + std::to_string(chunks);
    if (blob.size() - pos < want) return Fail(Code::kTampered, where + ": truncated");
    unsigned long long got = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            state.get(), n == 0 ? &scratch : out.data() + produced, &got, &tag, blob.data() + pos,
            want, i == 0 ? blob.data() : nullptr, i == 0 ? label_size : 0) != 0 ||
        got != n) {
      return Fail(Code::kTampered,
                  where + ": does not authenticate (altered, reordered, relabelled or wrong key)");
    }
    const bool last = i + 1 == chunks;
    if (last && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      return Fail(Code::kTampered, where + ": last chunk is not marked final (blob cut short)");
    }
    if (!last && tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
      return Fail(Code::kTampered, where + ": unexpected tag " + std::to_string(tag));
    }
    produced += n;
    pos += want;
  }
  if (pos != blob.size()) {
    return Fail(Code::kTampered,
                std::to_string(blob.size() - pos) + " bytes after the final chunk");
  }
  return out;
}

}  // namespace custodia::vault
