// Copyright custodia authors.
// base/must.h: for programs that have nothing to recover (the benchmarks,
// the fuzz seed maker): an error ends the program with a message naming
// the program, what failed and why. The library and the CLI report errors
// instead; nothing there may use this.
//
//   Vault vault = must::Must(Vault::Open(dir), "open " + dir.string());
#ifndef CUSTODIA_BASE_MUST_H_
#define CUSTODIA_BASE_MUST_H_

#include <errno.h>  // program_invocation_short_name (glibc)

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "base/result.h"

namespace custodia::must {

// "PROGRAM: what: why" on stderr, then exit status 1.
[[noreturn]] inline void Die(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(), why.c_str());
  std::exit(1);
}

template <class T>
T Must(Result<T> r, const std::string& what) {
  if (!r) Die(what, r.error().message);
  return std::move(r).value();
}

inline void Must(const Status& s, const std::string& what) {
  if (!s) Die(what, s.error().message);
}

}  // namespace custodia::must

#endif  // CUSTODIA_BASE_MUST_H_
