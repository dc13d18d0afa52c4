// tools/review.cc: the review queue and the report (docs/review.md).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/env.h"
#include "tools/commands.h"

namespace custodia::tools {
namespace {

using nlohmann::json;

struct ReviewArgs {
  std::string id;
  std::string field;
  std::string value;
  std::string type;
  std::string since;
  std::vector<std::string> folders;
  int weight = 10;
};

// Runs `body` on the archive opened as the acting person; reports errors.
template <class Body>
void Run(Globals* g, int* exit_code, const std::string& command, bool login, Body body) {
  auto archive = OpenArchive(*g, command, login);
  if (!archive) {
    *exit_code = Report(command, archive.error());
    return;
  }
  Status s = body(*archive);
  if (!s) *exit_code = Report(command, s.error());
}

// "2024-03-01" (a UTC day) or "2024-03-01T08:00:00Z" to microseconds.
Result<std::int64_t> ParseSince(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char tail = 0;
  const bool day = std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3;
  const bool instant =
      !day && std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &s,
                          &tail) == 6;
  if ((!day && !instant) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return Fail(Code::kInvalidArgument,
                "--since " + text + ": write a UTC date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000;
}

json FiguresJson(const pipeline::TypeFigures& f) {
  return {{"documents", f.documents},         {"automated", f.automated},
          {"corrected", f.corrected},         {"typed_by_hand", f.typed_by_hand},
          {"waiting", f.waiting},             {"fields_corrected", f.fields_corrected}};
}

std::string Share(int part, int whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%%", whole > 0 ? 100.0 * part / whole : 0.0);
  return buf;
}

void SetupQueue(CLI::App* app, CLI::App* review, Globals* g, int* exit_code) {
  static ReviewArgs args;
  CLI::App* list = review->add_subcommand("list", "documents waiting for review, most urgent first");
  list->footer(
      "Most urgent first: each type has a due time after ingest (custodia.toml, table\n"
      "[review.due_hours]; see docs/review.md), then older first. Reads no document\n"
      "content, so nothing is logged.");
  list->callback([g, exit_code] {
    Run(g, exit_code, "review list", false, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(std::vector<pipeline::ReviewItem> items, a.ReviewQueue());
      for (const pipeline::ReviewItem& i : items) {
        if (g->json) {
          std::cout << json{{"id", i.id},
                            {"source", i.source},
                            {"type", i.type},
                            {"sealed_at", i.sealed_at},
                            {"due_at", i.due_at},
                            {"age_hours", i.age_hours},
                            {"overdue", i.overdue},
                            {"decisions", i.decisions}}
                           .dump()
                    << "\n";
        } else {
          std::printf("%-8s  %-22s  due %s%s  age %6.1f h  %s\n", i.id.c_str(), i.type.c_str(),
                      i.due_at.c_str(), i.overdue ? " OVERDUE" : "", i.age_hours,
                      i.source.c_str());
        }
      }
      if (!g->json && items.empty()) std::printf("nothing is waiting for review\n");
      return Ok();
    });
  });

  CLI::App* show = review->add_subcommand("show", "a document's fields, why it is in review, "
                                                  "and its review history");
  show->add_option("ID", args.id, "document id, e.g. D000001")->required();
  show->footer("As 'custodia show' without the text. A logged read.");
  show->callback([g, exit_code] {
    Run(g, exit_code, "review show", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(pipeline::Document d, a.Show(args.id, /*with_text=*/false));
      PrintDocument(*g, d, /*with_text=*/false);
      return Ok();
    });
  });

  CLI::App* set = review->add_subcommand("set", "correct one field (archivist)");
  set->add_option("ID", args.id, "document id")->required();
  set->add_option("FIELD", args.field, "field name, e.g. total, iban, fecha")->required();
  set->add_option("VALUE", args.value, "the value as printed on the document")->required();
  set->footer(
      "The value is read as the extractor reads it (dates to YYYY-MM-DD, amounts to\n"
      "1234.56, ids upper case without separators) and must pass the field's check\n"
      "(control letters and digits, real dates, invoice sums). A wrong value is refused.\n"
      "The document stays in review until approved. Example:\n"
      "  custodia review set D000012 total '1.234,56 EUR'");
  set->callback([g, exit_code] {
    Run(g, exit_code, "review set", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(pipeline::Document d, a.ReviewSet(args.id, args.field, args.value));
      PrintDocument(*g, d, /*with_text=*/false);
      return Ok();
    });
  });

  CLI::App* type = review->add_subcommand("type", "set the document's type (archivist)");
  type->add_option("ID", args.id, "document id")->required();
  type->add_option("TYPE", args.type,
                   "factura, dni, justificante_bancario, nomina, contrato, reclamacion, "
                   "albaran or otro")
      ->required();
  type->footer("The fields are read again from the text as TYPE has them; review and approve.");
  type->callback([g, exit_code] {
    Run(g, exit_code, "review type", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(pipeline::Document d, a.ReviewType(args.id, args.type));
      PrintDocument(*g, d, /*with_text=*/false);
      return Ok();
    });
  });

  CLI::App* approve = review->add_subcommand("approve", "accept the document as it now reads");
  approve->add_option("ID", args.id, "document id")->required();
  approve->footer("Refused while a field of its type is missing or not valid.");
  approve->callback([g, exit_code] {
    Run(g, exit_code, "review approve", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(pipeline::Document d, a.ReviewApprove(args.id));
      if (g->json) {
        std::cout << json{{"id", d.id}, {"type", d.type}, {"status", d.status}}.dump() << "\n";
      } else {
        std::printf("%s approved as %s\n", d.id.c_str(), d.type.c_str());
      }
      return Ok();
    });
  });

  CLI::App* report =
      app->add_subcommand("report", "how much went through untouched, and the queue");
  report->add_option("--since", args.since, "only documents sealed from this UTC date on");
  report->footer(
      "Documents per type: automated end to end (auto at ingest, never reviewed),\n"
      "corrected in review, typed by hand; fields corrected per type; the review queue\n"
      "(size, age, past due); pages per hour. From the ledger alone: no key, no content.");
  report->callback([g, exit_code] {
    Run(g, exit_code, "report", false, [&](pipeline::Archive& a) -> Status {
      std::int64_t since = 0;
      if (!args.since.empty()) {
        CU_ASSIGN_OR_RETURN(since, ParseSince(args.since));
      }
      CU_ASSIGN_OR_RETURN(pipeline::Report r, a.MakeReport(since));
      if (g->json) {
        json types = json::object();
        for (const auto& [t, f] : r.by_type) types[t] = FiguresJson(f);
        std::cout << json{{"since", r.since.empty() ? json(nullptr) : json(r.since)},
                          {"documents", r.documents},
                          {"pages", r.pages},
                          {"all", FiguresJson(r.all)},
                          {"types", types},
                          {"queue", r.queue},
                          {"queue_oldest_hours", r.queue_oldest_hours},
                          {"queue_median_hours", r.queue_median_hours},
                          {"overdue", r.overdue},
                          {"approved_late", r.approved_late},
                          {"pages_per_hour", r.pages_per_hour}}
                         .dump()
                  << "\n";
        return Ok();
      }
      std::printf("documents %d (%d pages)%s%s\n", r.documents, r.pages,
                  r.since.empty() ? "" : " sealed since ", r.since.c_str());
      std::printf("%-22s %6s %10s %10s %10s %8s\n", "type", "docs", "automated", "corrected",
                  "typed", "waiting");
      auto row = [](const std::string& name, const pipeline::TypeFigures& f) {
        std::printf("%-22s %6d %10s %10s %10s %8d\n", name.c_str(), f.documents,
                    Share(f.automated, f.documents).c_str(),
                    Share(f.corrected, f.documents).c_str(),
                    Share(f.typed_by_hand, f.documents).c_str(), f.waiting);
      };
      for (const auto& [t, f] : r.by_type) row(t, f);
      row("all", r.all);
      for (const auto& [t, f] : r.by_type) {
        if (f.fields_corrected.empty()) continue;
        std::string fields;
        for (const auto& [field, n] : f.fields_corrected)
          fields += (fields.empty() ? "" : ", ") + field + " " + std::to_string(n);
        std::printf("corrected in %s: %s\n", t.c_str(), fields.c_str());
      }
      std::printf("review queue %d, oldest %.1f h, median %.1f h, %d past due; %d approved late\n",
                  r.queue, r.queue_oldest_hours, r.queue_median_hours, r.overdue,
                  r.approved_late);
      if (r.pages_per_hour > 0) std::printf("pages per hour %.0f\n", r.pages_per_hour);
      return Ok();
    });
  });
}

void SetupTrain(CLI::App* app, Globals* g, int* exit_code) {
  static ReviewArgs args;
  CLI::App* train = app->add_subcommand("train", "teach the type model what people decided (archivist)");
  train->add_option("FOLDER", args.folders,
                    "labelled texts: FOLDER/TYPE/*.txt, one folder per type (optional)");
  train->add_option("--weight", args.weight,
                    "how many generic examples each one counts as (default 10)")
      ->check(CLI::Range(1, 1000));
  train->footer(
      "Learns from the documents whose type a person decided in review (typed, or\n"
      "approved) and from labelled folders, on top of the model that ships with custodia,\n"
      "and writes ARCHIVE/model/types.model; ingest classifies with it from then on.\n"
      "Training again starts from the shipped model, so nothing is counted twice.\n"
      "Remove the file to go back to the shipped model. See docs/classifier.md.");
  train->callback([g, exit_code] {
    Run(g, exit_code, "train", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(pipeline::TrainSummary s, a.Train(args.folders, args.weight));
      if (g->json) {
        std::cout << json{{"from_archive", s.from_archive},
                          {"from_folders", s.from_folders},
                          {"per_type", s.per_type},
                          {"model", s.model}}
                         .dump()
                  << "\n";
        return Ok();
      }
      std::string types;
      for (const auto& [t, n] : s.per_type)
        types += (types.empty() ? "" : ", ") + t + " " + std::to_string(n);
      std::printf("learnt %d documents decided in review and %d labelled texts (%s)\nwrote %s\n",
                  s.from_archive, s.from_folders, types.c_str(), s.model.c_str());
      return Ok();
    });
  });
}

}  // namespace

void SetupReviewCommands(CLI::App* app, Globals* g, int* exit_code) {
  CLI::App* review = app->add_subcommand("review", "the review queue: list, show, set, type, approve");
  review->require_subcommand(1);
  review->footer(
      "Documents whose type or fields the router could not accept wait here.\n"
      "  custodia review list\n  custodia review show D000012\n"
      "  custodia review set D000012 iban 'ES91 2100 0418 4502 0005 1332'\n"
      "  custodia review approve D000012\nSee docs/review.md.");
  SetupQueue(app, review, g, exit_code);
  SetupTrain(app, g, exit_code);
}

}  // namespace custodia::tools
