// Rill's logger, as the library's code uses it: a message and key=value fields.
//
//   log::logger log = log::logger().with("app", app_id).with("thread", 1);
//   log.info("task created", log::kv("task", id));
//   // time=... level=info logger=rill msg="task created" app=orders thread=1 task=0_3
//
// A logger is a cheap value: the fields it carries (app=, thread=, task=) plus the process's
// one destination (<rill/logging.hpp>). Fields are rendered only when the line's level is
// enabled; values with a to_string() member (task ids, partitions) use it, others fmt.
// Every line is scrubbed of registered secrets (secrets.hpp) before it is written.
// Thread-safe: lines from many threads are written whole, one at a time.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <rill/logging.hpp>

namespace rill::log {

using level = rill::log_level;

// One rendered field. `number`: written unquoted in JSON.
struct field {
  std::string key;
  std::string value;
  bool number = false;
};

// A field at a call site; holds a reference, so it lives only in the logging expression.
template <class T>
struct kv {
  std::string_view key;
  const T& value;
  kv(std::string_view k, const T& v) : key(k), value(v) {}
};

template <class T>
field render(std::string_view key, const T& v) {
  if constexpr (requires { v.to_string(); }) {
    return {std::string(key), v.to_string()};
  } else if constexpr (std::is_same_v<T, bool>) {
    return {std::string(key), v ? "true" : "false"};
  } else if constexpr (std::is_arithmetic_v<T>) {
    return {std::string(key), fmt::to_string(v), true};
  } else if constexpr (std::is_pointer_v<T>) {  // a C string, maybe null
    return {std::string(key), v != nullptr ? std::string(v) : std::string()};
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    const std::string_view s = v;  // an empty view may have no data at all
    return {std::string(key), std::string(s.begin(), s.end())};
  } else {
    return {std::string(key), fmt::to_string(v)};
  }
}

// Whether lines of this level are written now.
bool enabled(level l) noexcept;

class logger {
 public:
  logger() = default;
  // The same logger, its lines carrying one more field.
  template <class T>
  logger with(std::string_view key, const T& value) const {
    logger out = *this;
    out._bound.push_back(render(key, value));
    return out;
  }

  template <class... T>
  void trace(std::string_view msg, const kv<T>&... fields) const {
    emit(level::trace, msg, fields...);
  }
  template <class... T>
  void debug(std::string_view msg, const kv<T>&... fields) const {
    emit(level::debug, msg, fields...);
  }
  template <class... T>
  void info(std::string_view msg, const kv<T>&... fields) const {
    emit(level::info, msg, fields...);
  }
  template <class... T>
  void warn(std::string_view msg, const kv<T>&... fields) const {
    emit(level::warn, msg, fields...);
  }
  template <class... T>
  void error(std::string_view msg, const kv<T>&... fields) const {
    emit(level::error, msg, fields...);
  }
  template <class... T>
  void emit(level l, std::string_view msg, const kv<T>&... fields) const {
    if (!enabled(l)) return;
    const field rendered[] = {render(fields.key, fields.value)..., field{}};
    write(l, msg, std::span<const field>(rendered, sizeof...(T)));
  }

  const std::vector<field>& fields() const noexcept { return _bound; }

 private:
  void write(level l, std::string_view msg, std::span<const field> fields) const;
  std::vector<field> _bound;
};

// A line as the format writes it (exposed for tests). `time` is RFC 3339 UTC; text lines
// without a time are what a host's sink gets.
std::string text_line(std::string_view msg, std::span<const field> bound,
                      std::span<const field> fields);
std::string json_line(std::string_view time, level l, std::string_view msg,
                      std::span<const field> bound, std::span<const field> fields);
std::string_view level_name(level l) noexcept;
// "trace" .. "off"; throws std::invalid_argument otherwise.
level parse_level(std::string_view name);
log_format parse_format(std::string_view name);

}  // namespace rill::log
