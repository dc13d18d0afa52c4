// vault/fuzz_seeds.cc: makes the seed corpora of the vault's fuzz targets
// from real bytes (scripts/fuzz.sh runs it; issue 8). It builds a small
// archive with the Vault API, one of every entry type, from the samples'
// originals and texts, then writes:
//   CORPUS/vault_ledger_fuzz/      the ledger, and the ledger cut after each entry
//   CORPUS/vault_checkpoint_fuzz/  signed checkpoints, an inclusion proof, a
//                                  verifier key, and one proof-algorithm seed
//   CORPUS/vault_blob_fuzz/        blobs of sample bytes under the fixed key the
//                                  blob target decrypts with, and round-trip seeds
// ARCHIVE is kept: vault_checkpoint_fuzz checks notes and proofs against it
// (CUSTODIA_FUZZ_ARCHIVE).
//   vault_fuzz_seeds CORPUS ARCHIVE ORIGINAL TEXT [ORIGINAL TEXT ...]
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/must.h"
#include "vault/blob.h"
#include "vault/crypto.h"
#include "vault/vault.h"

using namespace custodia;
using namespace custodia::vault;
namespace fs = std::filesystem;

namespace {

constexpr char kPass[] = "fuzz seeds passphrase";

using must::Die;
using must::Must;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vault_fuzz_seeds: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Write(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "vault_fuzz_seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

void Write(const fs::path& path, const std::string& text) {
  Write(path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::span<const std::uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: vault_fuzz_seeds CORPUS ARCHIVE ORIGINAL TEXT [ORIGINAL TEXT ...]\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path archive = argv[2];
  std::vector<std::pair<std::string, std::string>> samples;  // original bytes, text
  for (int i = 3; i + 1 < argc; i += 2) samples.emplace_back(ReadAll(argv[i]), ReadAll(argv[i + 1]));
  for (const char* target : {"vault_ledger_fuzz", "vault_checkpoint_fuzz", "vault_blob_fuzz"}) {
    fs::create_directories(corpus / target);
  }

  // The archive: every entry type at least once.
  std::error_code ec;
  fs::remove_all(archive, ec);
  Must(Vault::Create(archive, "ana", kPass), "create");
  Vault vault = Must(Vault::Open(archive), "open");
  Must(vault.Login("ana", kPass), "login");
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < samples.size() && i < 3; ++i) {
    SealRequest request;
    request.original = AsBytes(samples[i].first);
    request.text = samples[i].second;
    request.source = "inbox/sample-" + std::to_string(i) + ".pdf";
    request.pages = 1;
    request.type = "factura";
    request.status = i == 0 ? "review" : "auto";
    const std::string hocr = "<div class='ocr_page' id='page_1'></div>";
    request.extras.push_back(ExtraArtefact{Artefact::kHocr, AsBytes(hocr)});
    ids.push_back(Must(vault.Seal(request), "seal").id);
  }
  BatchRequest batch;
  batch.source = "scanner-1/lote-0001.pdf";
  batch.source_hash = Vault::HashHex(AsBytes(samples[0].first));
  batch.pages = 4;
  batch.blank_pages = 1;
  batch.separators = 1;
  batch.documents.push_back(BatchDocument{ids[0], "EXP-2024/7", 2, 1, false});
  Must(vault.RecordBatch(batch), "batch");
  BatchRequest quarantined;
  quarantined.source = "scanner-1/roto.pdf";
  quarantined.outcome = BatchOutcome::kQuarantined;
  quarantined.reason = "not a PDF";
  Must(vault.RecordBatch(quarantined), "quarantined batch");
  Must(vault.Review(ids[0], ReviewAction::kSetField, "total", "factura", "review",
                    "{\"total\":\"121.00\"}"),
       "review");
  Must(vault.Review(ids[0], ReviewAction::kApprove, "", "factura", "approved", ""), "approve");
  Must(vault.ReadText(ids[0], "fuzz seeds"), "view");
  Must(vault.Export(ids[0], Artefact::kOriginal, "fuzz seeds"), "export");
  Must(vault.Checkout(ids[0], "juzgado 3", "2030-01-31", "auto 12/2024"), "checkout");
  Must(vault.Return(ids[0], "complete"), "return");
  Must(vault.Enroll("bo", kPass), "enroll");
  Must(vault.AddUser("bo", {Role::kAuditor}), "add user");
  Must(vault.GrantRole("bo", Role::kArchivist), "grant");
  Must(vault.RevokeRole("bo", Role::kAuditor), "revoke role");
  const std::string checkpoint = Must(vault.IssueCheckpoint(), "checkpoint");
  Must(vault.RotateKey(), "rotate");
  Must(vault.Enroll("cy", kPass), "enroll");
  Must(vault.AddUser("cy", {Role::kStation}), "add user");
  Must(vault.RevokeUser("cy"), "revoke user");
  const std::string proof = Must(vault.Prove(ids[0]), "prove");
  const std::string later = Must(vault.IssueCheckpoint(), "checkpoint");

  // Ledger seeds: the whole ledger and every prefix ending on an entry.
  const std::string ledger = ReadAll(archive / "ledger");
  std::size_t end = ledger.size();
  for (std::size_t i = vault.entry_count(); i-- > 0;) {
    char name[32];
    std::snprintf(name, sizeof name, "ledger-%02zu", i + 1);
    Write(corpus / "vault_ledger_fuzz" / name, ledger.substr(0, end));
    end -= vault.entry_bytes(i).size();
  }

  // Checkpoint seeds; the first byte 0 marks the structured proof mode
  // (vault/checkpoint_fuzz.cc).
  const fs::path cp = corpus / "vault_checkpoint_fuzz";
  Write(cp / "checkpoint-1", checkpoint);
  Write(cp / "checkpoint-2", later);
  Write(cp / "proof", proof);
  Write(cp / "verifier-key", Must(vault.VerifierKey("ana"), "verifier key"));
  Write(cp / "algorithms", std::string("\0\x11\x05\x03\x07\xff\x01\x80\x02\x40", 10));

  // Blob seeds under the blob target's fixed key (all bytes 0x42). Small
  // slices of the originals keep them under the runs' -max_len.
  const fs::path bl = corpus / "vault_blob_fuzz";
  const std::vector<std::uint8_t> key_bytes(kKeySize, 0x42);
  const SecretKey key = Must(SecretKey::FromBytes(key_bytes), "key");
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string& original = samples[i].first;
    const std::string slice = original.substr(0, 2000 + 300 * i);
    const std::string id = "D" + std::string(5, '0') + std::to_string(i + 1);
    Write(bl / ("blob-original-" + std::to_string(i)),
          EncodeBlob(BlobLabel{id, BlobKind::kOriginal, slice.size()}, AsBytes(slice), key));
    const std::string& text = samples[i].second;
    Write(bl / ("blob-text-" + std::to_string(i)),
          EncodeBlob(BlobLabel{id, BlobKind::kText, text.size()}, AsBytes(text), key));
  }
  Write(bl / "blob-empty", EncodeBlob(BlobLabel{"D000009", BlobKind::kFields, 0}, {}, key));
  // Round-trip mode (first byte not 'C'): id size, kind, chunks, then text.
  Write(bl / "roundtrip-1", std::string("\x07\x02\x01\x10") + samples[0].second);
  Write(bl / "roundtrip-3", std::string("\x07\x01\x03\x90") + samples[0].second.substr(0, 200));
  return 0;
}
