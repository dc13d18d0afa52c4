// pipeline/archive_impl.h (internal to pipeline/): the Archive's state,
// shared by pipeline.cc (ingest, reads, people, loans) and review.cc (the
// review queue and the report).
#ifndef CUSTODIA_PIPELINE_ARCHIVE_IMPL_H_
#define CUSTODIA_PIPELINE_ARCHIVE_IMPL_H_

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classify/classify.h"
#include "index/index.h"
#include "ocr/ocr.h"
#include "pipeline/pipeline.h"
#include "vault/vault.h"

namespace custodia::pipeline {
namespace detail {

struct Input {
  std::string path;     // the file to read
  std::string source;   // what the ledger records: the path as given, or as found
                        // below a folder given; for a watched batch, "label/name"
  std::string missing;  // set when the path could not be used at all
};

// The index's view of a sealed document: field values from its
// classification.
index::Doc IndexDoc(const vault::Record& record, std::string text,
                    const classify::Classification& c, bool on_loan);

// Whether document `id` is checked out now.
bool OnLoan(const vault::Vault& vault, const std::string& id);

// A document as Show gives it, without its text.
Document ToDocument(const vault::Record& record, const classify::Classification& c,
                    std::vector<ReviewStep> steps);

// A sealed document's classification as it stands now: the "fields"
// artefact sealed at ingest with every review decision applied (one logged
// read, for `purpose`). Documents sealed before there was a fields artefact
// start from none. `steps`, when given, receives the review history.
Result<classify::Classification> ReadClassification(vault::Vault& vault,
                                                   const vault::Record& record,
                                                   std::string_view purpose,
                                                   std::vector<ReviewStep>* steps = nullptr);

}  // namespace detail

struct Archive::Impl {
  std::filesystem::path dir;
  std::mutex mu;  // guards vault and index: both are single-writer
  vault::Vault vault;
  index::Index index;
  std::vector<std::string> notices;
  // The type model `custodia train` wrote (model/types.model); null: the
  // default model.
  std::shared_ptr<const classify::TypeModel> model;
  // IngestBatch has loaded the model and brought the index in step.
  bool batch_ready = false;
  // Set (under mu) when an allocation failed inside vault.Seal: the vault's
  // view of its ledger may be out of step with the file, so nothing more is
  // sealed through it; the next open reads the ledger afresh.
  bool seal_interrupted = false;

  Impl(std::filesystem::path d, vault::Vault v, index::Index i)
      : dir(std::move(d)), vault(std::move(v)), index(std::move(i)) {}

  struct Job;
  struct PageOut;
  std::unique_ptr<Job> StartJob(const detail::Input& input, const IngestOptions& options);
  PageOut ReadJobPage(Job& job, int page, const IngestOptions& options,
                      std::optional<ocr::Engine>* engine);
  // `engine` is the calling worker's (opened when first needed); null when
  // the job ended before any page was read.
  void FinishJob(Job& job, const IngestOptions& options, std::optional<ocr::Engine>* engine);
  void SealPages(Job& job, const std::vector<int>& indexes, bool whole,
                 const IngestOptions& options, std::optional<ocr::Engine>* engine,
                 IngestResult* result);
  // The second reading (IngestOptions::second_reading) of the OCR'd pages
  // among `indexes`, settled into *c. Best effort: a page that cannot be
  // read again leaves *c as it was.
  void ReadAgain(Job& job, const std::vector<int>& indexes, const IngestOptions& options,
                 std::optional<ocr::Engine>* engine, classify::Classification* c);
  Result<int> CatchUpIndex();
  // CatchUpIndex with mu held; `purpose` is what the reads are logged as.
  Result<int> CatchUpIndexLocked(const std::string& purpose);
  // After a login: the index key (docs/index_schema.md), rebuilding an
  // index made under another key. REQUIRES: mu held.
  Status UnlockIndex();
  // Gives the index the logged-in person's index key (Index::Unlock).
  // REQUIRES: mu held.
  Status KeyIndex();
  // Empties the index, keys it under the current epoch and fills it from
  // the vault. REQUIRES: mu held.
  Result<std::uint64_t> RebuildLocked();
  // Check-out (on_loan) or return of `id`: the index follows. REQUIRES: mu held.
  Status FollowLoan(const std::string& id, bool on_loan);
  // The original is streamed from `original_file`, or, when that is empty,
  // taken from `original`.
  Status Seal(const std::string& original_file, std::span<const std::uint8_t> original,
              const std::string& hash,
              const std::string& text, const std::string& hocr,
              const std::vector<std::uint8_t>& pdf, const classify::Classification& c,
              IngestResult* result);
  // Loads model/types.model when there is one (null model otherwise).
  // kCorruption naming the file and what to do when it does not parse.
  Status LoadModel();
  // Records a review decision, then brings the index in step. REQUIRES: mu held.
  Result<Document> Decide(const std::string& id, vault::ReviewAction action,
                          const std::string& field, const std::string& value);
};

}  // namespace custodia::pipeline

#endif  // CUSTODIA_PIPELINE_ARCHIVE_IMPL_H_
