#include "src/log/log.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <rill/detail/json_text.hpp>

#include "src/log/secrets.hpp"

namespace rill {

namespace log {

namespace {

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
    case level::trace:
      return spdlog::level::trace;
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
    case level::off:
      break;
  }
  return spdlog::level::off;
}

// The process's one destination: a host's sink, else the `rill` spdlog logger on stderr.
// The logger is Rill's own: never registered with spdlog, so spdlog::get("rill"),
// spdlog::set_level and the default logger stay the host's.
struct destination {
  std::atomic<level> threshold{level::info};
  std::atomic<log_format> format{log_format::text};
  std::mutex mutex;  // one line at a time; guards host
  log_sink host;
  std::shared_ptr<spdlog::logger> rill_logger;

  destination()
      : rill_logger(std::make_shared<spdlog::logger>(
            "rill", std::make_shared<spdlog::sinks::stderr_sink_mt>())) {
    rill_logger->set_pattern("%v");  // the line carries its own time and level
    rill_logger->set_level(to_spdlog(threshold.load()));
  }
};

destination& dest() {
  static auto* d = new destination;  // never destroyed: threads may log during static destruction
  return *d;
}

std::string now_rfc3339() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

// logfmt: bare when the value has no space, quote, '=' or control character; else quoted
// as a JSON string (\" \\ \n \r \t, \u00XX for other control characters: one entry is
// always one line).
void append_text_value(std::string& out, std::string_view v) {
  const bool bare = !v.empty() && std::none_of(v.begin(), v.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
  });
  if (bare) {
    out += v;
    return;
  }
  detail::append_json_string(out, v);  // the same escapes, and one line
}

void append_text_fields(std::string& out, std::span<const field> fields) {
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_text_value(out, f.value);
  }
}

void append_json_fields(std::string& out, std::span<const field> fields) {
  for (const auto& f : fields) {
    out += ',';
    detail::append_json_string(out, f.key);
    out += ':';
    if (f.number)
      out += f.value;
    else
      detail::append_json_string(out, f.value);
  }
}

std::vector<field> scrubbed(std::span<const field> fields,
                            const std::vector<std::string>& secrets) {
  std::vector<field> out(fields.begin(), fields.end());
  for (auto& f : out) f.value = scrub(std::move(f.value), secrets);
  return out;
}

}  // namespace

std::string_view level_name(level l) noexcept {
  switch (l) {
    case level::trace:
      return "trace";
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    case level::off:
      break;
  }
  return "off";
}

level parse_level(std::string_view name) {
  for (level l : {level::trace, level::debug, level::info, level::warn, level::error, level::off})
    if (level_name(l) == name) return l;
  throw std::invalid_argument("unknown log level '" + std::string(name) + "'");
}

log_format parse_format(std::string_view name) {
  if (name == "text") return log_format::text;
  if (name == "json") return log_format::json;
  throw std::invalid_argument("unknown log format '" + std::string(name) + "'");
}

bool enabled(level l) noexcept {
  const level threshold = dest().threshold.load(std::memory_order_relaxed);
  return l != level::off && threshold != level::off &&
         static_cast<int>(l) >= static_cast<int>(threshold);
}

std::string text_line(std::string_view msg, std::span<const field> bound,
                      std::span<const field> fields) {
  std::string out = "msg=";
  append_text_value(out, msg);
  append_text_fields(out, bound);
  append_text_fields(out, fields);
  return out;
}

std::string json_line(std::string_view time, level l, std::string_view msg,
                      std::span<const field> bound, std::span<const field> fields) {
  std::string out = "{\"time\":";
  detail::append_json_string(out, time);
  out += ",\"level\":";
  detail::append_json_string(out, level_name(l));
  out += ",\"logger\":\"rill\",\"message\":";
  detail::append_json_string(out, msg);
  append_json_fields(out, bound);
  append_json_fields(out, fields);
  out += '}';
  return out;
}

void logger::write(level l, std::string_view msg, std::span<const field> fields) const {
  destination& d = dest();
  const auto secrets = registered_secrets();
  const std::string m = scrub(std::string(msg), secrets);
  const auto bound = scrubbed(_bound, secrets);
  const auto own = scrubbed(fields, secrets);
  const std::string time = now_rfc3339();
  const bool json = d.format.load() == log_format::json;
  std::string line = json ? json_line(time, l, m, bound, own) : text_line(m, bound, own);
  std::lock_guard lock(d.mutex);
  if (d.host) {
    try {
      d.host(l, line);
    } catch (...) {  // deliberately ignored: a failing sink must not fail the caller's work
    }
    return;
  }
  if (!json) line = fmt::format("time={} level={} logger=rill {}", time, level_name(l), line);
  d.rill_logger->log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace log

void set_log_sink(log_sink sink) {
  auto& d = log::dest();
  std::unique_lock lock(d.mutex);
  std::swap(d.host, sink);
  lock.unlock();  // the old sink is destroyed outside the lock
}

void set_log_level(log_level level) {
  auto& d = log::dest();
  d.threshold.store(level);
  d.rill_logger->set_level(log::to_spdlog(level));
}

log_level get_log_level() noexcept {
  return log::dest().threshold.load();
}

void set_log_format(log_format format) {
  log::dest().format.store(format);
}

log_format get_log_format() noexcept {
  return log::dest().format.load();
}

}  // namespace rill
