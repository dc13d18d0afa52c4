// tools/custody.cc: the custody subcommands: people and roles, loans, the
// ledger, key rotation.
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/env.h"
#include "tools/commands.h"

namespace custodia::tools {
namespace {

using nlohmann::json;

// Runs `body` with the archive opened as the acting person; reports errors.
template <class Body>
void WithArchive(Globals* g, int* exit_code, const std::string& command, bool login, Body body) {
  auto archive = OpenArchive(*g, command, login);
  if (!archive) {
    *exit_code = Report(command, archive.error());
    return;
  }
  Status s = body(*archive);
  if (!s) *exit_code = Report(command, s.error());
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string Today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void PrintLoan(const Globals& g, const pipeline::Loan& l) {
  if (g.json) {
    std::cout << json{{"id", l.id},         {"to", l.to}, {"due", l.due},
                      {"reason", l.reason}, {"by", l.by}, {"since", l.since}}
                     .dump()
              << "\n";
  } else {
    std::printf("%-8s  to %-16s  due %s  since %s by %s%s%s\n", l.id.c_str(), l.to.c_str(),
                l.due.c_str(), l.since.c_str(), l.by.c_str(), l.reason.empty() ? "" : "  ",
                l.reason.c_str());
  }
}

struct UserArgs {
  std::string name;
  std::vector<std::string> roles;
  std::string role;
  std::string new_passphrase_file;
};

void SetupUser(CLI::App* app, Globals* g, int* exit_code) {
  static UserArgs args;
  CLI::App* user = app->add_subcommand("user", "people and stations, and their roles (admin)");
  user->require_subcommand(1);

  CLI::App* add = user->add_subcommand("add", "add a person or station with one or more roles");
  add->add_option("NAME", args.name, "1-32 of a-z 0-9 . _ -")->required();
  add->add_option("-r,--role", args.roles, "station, archivist, auditor or admin (repeatable)")
      ->required()
      ->check(CLI::IsMember({"station", "archivist", "auditor", "admin"}));
  add->add_option("--new-passphrase-file", args.new_passphrase_file,
                  "the new person's passphrase, first line of this file (else "
                  "$CUSTODIA_NEW_PASSPHRASE, else asked on the terminal)");
  add->footer(
      "Creates NAME's signing keys under their own passphrase (Argon2id) and records\n"
      "them in the ledger with their roles. Auditors get no key that decrypts documents.\n"
      "Example: custodia user add ana --role archivist");
  add->callback([g, exit_code] {
    WithArchive(g, exit_code, "user add", true, [&](pipeline::Archive& a) -> Status {
      Result<Passphrase> pass = Fail(Code::kInvalidArgument, "");
      if (!args.new_passphrase_file.empty()) {
        pass = ReadPassphrase(args.new_passphrase_file, args.name, false);
      } else if (const char* env = std::getenv("CUSTODIA_NEW_PASSPHRASE"); env && *env) {
        pass = Passphrase(env);
      } else {
        pass =
            Fail(Code::kInvalidArgument, "a passphrase for " + args.name +
                                             " is needed: use --new-passphrase-file FILE or set "
                                             "CUSTODIA_NEW_PASSPHRASE (never on the command line)");
      }
      if (!pass) return Unexpected{pass.error()};
      CU_TRY(a.AddUser(args.name, args.roles, pass->value()));
      if (g->json) {
        std::cout << json{{"user", args.name}, {"roles", args.roles}}.dump() << "\n";
      } else {
        std::printf("added %s (%s)\n", args.name.c_str(), Join(args.roles, ", ").c_str());
      }
      return Ok();
    });
  });

  CLI::App* list = user->add_subcommand("list", "everyone the ledger knows, with their roles");
  list->callback([g, exit_code] {
    WithArchive(g, exit_code, "user list", false, [&](pipeline::Archive& a) -> Status {
      for (const pipeline::User& u : a.Users()) {
        if (g->json) {
          std::cout << json{{"user", u.name},
                            {"roles", u.roles},
                            {"revoked", u.revoked},
                            {"sign_public_key", u.sign_public_key}}
                           .dump()
                    << "\n";
        } else {
          std::printf("%-16s  %s%s\n", u.name.c_str(), Join(u.roles, ", ").c_str(),
                      u.revoked ? "  (revoked)" : "");
        }
      }
      return Ok();
    });
  });

  auto role_command = [&](const char* name, const char* help, bool grant) {
    CLI::App* sub = user->add_subcommand(name, help);
    sub->add_option("NAME", args.name)->required();
    sub->add_option("ROLE", args.role, "station, archivist, auditor or admin")
        ->required()
        ->check(CLI::IsMember({"station", "archivist", "auditor", "admin"}));
    sub->callback([g, exit_code, name, grant] {
      WithArchive(
          g, exit_code, std::string("user ") + name, true, [&](pipeline::Archive& a) -> Status {
            CU_TRY(grant ? a.GrantRole(args.name, args.role) : a.RevokeRole(args.name, args.role));
            if (!g->json)
              std::printf("%s %s %s\n", grant ? "granted" : "revoked", args.role.c_str(),
                          grant ? ("to " + args.name).c_str() : ("from " + args.name).c_str());
            return Ok();
          });
    });
  };
  role_command("grant", "give NAME a role", true);
  role_command("revoke-role", "take a role from NAME", false);

  CLI::App* revoke = user->add_subcommand("revoke", "revoke NAME for good");
  revoke->add_option("NAME", args.name)->required();
  revoke->footer("Their later signatures are refused; the next rotate-key leaves them out.");
  revoke->callback([g, exit_code] {
    WithArchive(g, exit_code, "user revoke", true, [&](pipeline::Archive& a) -> Status {
      CU_TRY(a.RevokeUser(args.name));
      if (!g->json) std::printf("revoked %s\n", args.name.c_str());
      return Ok();
    });
  });
}

struct LoanArgs {
  std::string id;
  std::string to;
  std::string due;
  std::string reason;
  std::string note;
  bool overdue = false;
};

void SetupLoans(CLI::App* app, Globals* g, int* exit_code) {
  static LoanArgs args;
  CLI::App* out = app->add_subcommand("checkout", "lend a document's file out (archivist)");
  out->add_option("ID", args.id, "document id")->required();
  out->add_option("--to", args.to, "who takes it")->required();
  out->add_option("--due", args.due, "return date, YYYY-MM-DD")->required();
  out->add_option("--reason", args.reason, "why");
  out->footer("A document on loan cannot be checked out again until it is returned.");
  out->callback([g, exit_code] {
    WithArchive(g, exit_code, "checkout", true, [&](pipeline::Archive& a) -> Status {
      CU_TRY(a.Checkout(args.id, args.to, args.due, args.reason));
      if (!g->json)
        std::printf("%s checked out to %s until %s\n", args.id.c_str(), args.to.c_str(),
                    args.due.c_str());
      return Ok();
    });
  });

  CLI::App* back = app->add_subcommand("return", "record that a loaned document came back");
  back->add_option("ID", args.id, "document id")->required();
  back->add_option("--note", args.note, "condition, remarks");
  back->callback([g, exit_code] {
    WithArchive(g, exit_code, "return", true, [&](pipeline::Archive& a) -> Status {
      CU_TRY(a.Return(args.id, args.note));
      if (!g->json) std::printf("%s returned\n", args.id.c_str());
      return Ok();
    });
  });

  CLI::App* loans = app->add_subcommand("loans", "the loan book: documents out on loan");
  loans->add_flag("--overdue", args.overdue, "only those past their due date (UTC today)");
  loans->callback([g, exit_code] {
    WithArchive(g, exit_code, "loans", false, [&](pipeline::Archive& a) -> Status {
      std::vector<pipeline::Loan> list;
      if (args.overdue) {
        CU_ASSIGN_OR_RETURN(list, a.Overdue(Today()));
      } else {
        list = a.Loans();
      }
      for (const pipeline::Loan& l : list) PrintLoan(*g, l);
      if (!g->json && list.empty())
        std::printf(args.overdue ? "no loan is overdue\n" : "nothing is on loan\n");
      return Ok();
    });
  });
}

void SetupLedger(CLI::App* app, Globals* g, int* exit_code) {
  CLI::App* log = app->add_subcommand("log", "the ledger, one line per event (no key needed)");
  log->callback([g, exit_code] {
    WithArchive(g, exit_code, "log", false, [&](pipeline::Archive& a) -> Status {
      for (const pipeline::Event& e : a.Log()) {
        if (g->json) {
          std::cout << json{{"seq", e.seq},
                            {"time", e.time},
                            {"actor", e.actor},
                            {"type", e.type},
                            {"detail", e.detail}}
                           .dump()
                    << "\n";
        } else {
          std::printf("%6llu  %s  %-12s  %-13s %s\n", static_cast<unsigned long long>(e.seq),
                      e.time.c_str(), e.actor.c_str(), e.type.c_str(), e.detail.c_str());
        }
      }
      return Ok();
    });
  });

  CLI::App* rotate = app->add_subcommand("rotate-key", "start a new key epoch (admin)");
  rotate->footer(
      "Rewraps every blob key under a fresh archive key sealed only to the active\n"
      "people who need it; no blob is rewritten. Recorded in the ledger.");
  rotate->callback([g, exit_code] {
    WithArchive(g, exit_code, "rotate-key", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(std::uint32_t epoch, a.RotateKey());
      if (g->json) {
        std::cout << json{{"epoch", epoch}}.dump() << "\n";
      } else {
        std::printf("key epoch %u started\n", epoch);
      }
      return Ok();
    });
  });
}

struct ProofArgs {
  std::string id;
  std::string out;
  std::string user;
};

void SetupProofs(CLI::App* app, Globals* g, int* exit_code) {
  static ProofArgs args;
  CLI::App* cp = app->add_subcommand("checkpoint", "sign a checkpoint of the ledger (any role)");
  cp->add_option("-o,--out", args.out, "also write it to this file");
  cp->footer(
      "Prints a C2SP tlog-checkpoint signed note (origin, size, Merkle root, signature)\n"
      "and records it in the ledger. Keep it OUTSIDE the archive: `custodia verify\n"
      "--checkpoint FILE` later proves the ledger still extends it, so truncation and\n"
      "rollback are caught.");
  cp->callback([g, exit_code] {
    WithArchive(g, exit_code, "checkpoint", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(std::string note, a.IssueCheckpoint());
      if (!args.out.empty()) {
        CU_TRY(Env::Default()->WriteFileAtomic(
            args.out, {reinterpret_cast<const std::uint8_t*>(note.data()), note.size()}));
      }
      if (g->json) {
        std::cout << json{{"checkpoint", note}}.dump() << "\n";
      } else {
        std::fputs(note.c_str(), stdout);
      }
      return Ok();
    });
  });

  CLI::App* prove = app->add_subcommand("prove", "inclusion proof of a document's ingest entry");
  prove->add_option("ID", args.id, "document id")->required();
  prove->add_option("-o,--out", args.out, "also write it to this file");
  prove->footer(
      "Prints a c2sp.org/tlog-proof@v1 file: the ingest entry's index, its audit path\n"
      "and a freshly signed checkpoint. `custodia verify --proof FILE --id ID` checks it.");
  prove->callback([g, exit_code] {
    WithArchive(g, exit_code, "prove", true, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(std::string proof, a.Prove(args.id));
      if (!args.out.empty()) {
        CU_TRY(Env::Default()->WriteFileAtomic(
            args.out, {reinterpret_cast<const std::uint8_t*>(proof.data()), proof.size()}));
      }
      if (g->json) {
        std::cout << json{{"id", args.id}, {"proof", proof}}.dump() << "\n";
      } else {
        std::fputs(proof.c_str(), stdout);
      }
      return Ok();
    });
  });

  CLI::App* key = app->add_subcommand("verifier-key", "a person's checkpoint verifier key");
  key->add_option("NAME", args.user, "user name")->required();
  key->footer("For checking custodia's checkpoints with other tlog tools. No key needed.");
  key->callback([g, exit_code] {
    WithArchive(g, exit_code, "verifier-key", false, [&](pipeline::Archive& a) -> Status {
      CU_ASSIGN_OR_RETURN(std::string vkey, a.VerifierKey(args.user));
      std::printf("%s\n", vkey.c_str());
      return Ok();
    });
  });
}

}  // namespace

void SetupCustodyCommands(CLI::App* app, Globals* g, int* exit_code) {
  SetupUser(app, g, exit_code);
  SetupLoans(app, g, exit_code);
  SetupLedger(app, g, exit_code);
  SetupProofs(app, g, exit_code);
}

}  // namespace custodia::tools
