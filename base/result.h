// base/result.h: Result<T> and Status, the one error convention of custodia.
// Shaped like C++23 std::expected<T, Error> so that moving to it is an alias.
#ifndef CUSTODIA_BASE_RESULT_H_
#define CUSTODIA_BASE_RESULT_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace custodia {

enum class Code {
  kInvalidArgument,     // the caller asked for something malformed
  kNotFound,            // no such document, file or entry
  kAlreadyExists,       // refused to overwrite
  kFailedPrecondition,  // the state does not allow it (locked, on loan, ...)
  kPermissionDenied,
  kIo,                // the operating system said no
  kCorruption,        // bytes on disk are malformed (repair or re-ingest)
  kTampered,          // bytes on disk are well formed but do not verify
  kUnavailable,       // a resource (model, library) is missing
  kUnsupported,       // input of a kind we do not read
  kDeadlineExceeded,  // stopped at the time limit it was given
  kInternal,
};

// Returns a stable lower-case name for `code` ("not_found").
const char* CodeName(Code code);

struct Error {
  Code code;
  std::string message;  // lower-case context chain: "vault: entry 41: hash mismatch"
};

struct Unexpected {
  Error error;
};

inline Unexpected Fail(Code code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}

// Prefixes the message of `error` with `context` and ": ".
inline Unexpected Wrap(const Error& error, const std::string& context) {
  return Unexpected{Error{error.code, context + ": " + error.message}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)) {}  // NOLINT

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

}  // namespace custodia

#define CU_CONCAT_INNER_(a, b) a##b
#define CU_CONCAT_(a, b) CU_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Result or Status) from the enclosing function.
#define CU_TRY(expr)                                                            \
  do {                                                                          \
    auto&& cu_try_result_ = (expr);                                             \
    if (!cu_try_result_) return ::custodia::Unexpected{cu_try_result_.error()}; \
  } while (0)

// Evaluates `expr`, a Result<T>; on error returns it, else moves the value
// into `lhs` (which may be a declaration: CU_ASSIGN_OR_RETURN(auto x, F())).
#define CU_ASSIGN_OR_RETURN(lhs, expr) \
  CU_ASSIGN_OR_RETURN_IMPL_(CU_CONCAT_(cu_result_, __LINE__), lhs, expr)
#define CU_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)       \
  auto tmp = (expr);                                    \
  if (!tmp) return ::custodia::Unexpected{tmp.error()}; \
  lhs = std::move(tmp).value()

// Aborts with file:line when a precondition is broken (a programmer error,
// never bad input).
#define CU_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#endif  // CUSTODIA_BASE_RESULT_H_
