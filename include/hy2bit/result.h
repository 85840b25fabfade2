// Error and Result<T>: how every input error (files, prompts, HTTP bodies)
// travels through hy2bit. C++20 has no std::expected, so this is a small one.
// Nothing in the public API throws or aborts on bad input; it returns an Error
// whose message names the key, tensor or offset, what was found and what was
// expected.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace hy2bit {

struct Error {
  std::string message;  // one line, no trailing newline
};

// Converts one piece of an error message to text.
inline std::string to_message_part(const std::string& s) { return s; }
inline std::string to_message_part(std::string_view s) { return std::string(s); }
inline std::string to_message_part(const char* s) { return s; }
inline std::string to_message_part(char c) { return std::string(1, c); }
template <typename Number>
  requires std::is_arithmetic_v<Number>
std::string to_message_part(Number n) {
  return std::to_string(n);
}

// Builds an Error from pieces: make_error("tensor ", name, " has ", n, " dims").
template <typename... Parts>
Error make_error(const Parts&... parts) {
  std::string message;
  (message.append(to_message_part(parts)), ...);
  return Error{std::move(message)};
}

// Either a value or an Error. Check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Error error) : state_(std::move(error)) {}      // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result for operations that produce nothing but may fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace hy2bit

// Returns the error of a Result-valued expression from the enclosing function.
#define HY2BIT_TRY(expr)                          \
  do {                                            \
    auto&& hy2bit_try_result_ = (expr);           \
    if (!hy2bit_try_result_.ok()) return hy2bit_try_result_.error(); \
  } while (0)
