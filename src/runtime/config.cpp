#include <rill/config.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "src/log/secrets.hpp"

extern char** environ;

namespace rill {

namespace {

enum class kind { string, integer, boolean, choice, host_port };

struct setting {
  const char* key;
  kind type;
  const char* default_value;  // nullptr: no default
  std::int64_t min = 0;       // integers
  std::vector<std::string_view> choices = {};
};

const std::vector<setting>& settings() {
  static const std::vector<setting> all = {
      {cfg::application_id, kind::string, nullptr},
      {cfg::bootstrap_servers, kind::string, "embedded"},
      {cfg::num_stream_threads, kind::integer, "1", 1},
      // 30 s at-least-once, 100 ms exactly-once: resolved by the runtime when unset.
      {cfg::commit_interval_ms, kind::integer, nullptr, 0},
      {cfg::processing_guarantee,
       kind::choice,
       "at_least_once",
       0,
       {"at_least_once", "exactly_once_v2"}},
      {cfg::state_dir, kind::string, "/tmp/rill"},
      {cfg::max_task_idle_ms, kind::integer, "0", -1},
      {cfg::deserialization_handler,
       kind::choice,
       "fail",
       0,
       {"fail", "log_and_continue", "dead_letter"}},
      {cfg::processing_handler,
       kind::choice,
       "fail",
       0,
       {"fail", "log_and_continue", "dead_letter"}},
      {cfg::dead_letter_topic, kind::string, nullptr},
      {cfg::buffered_records_per_partition, kind::integer, "1000", 1},
      {cfg::poll_ms, kind::integer, "100", 0},
      {cfg::client_id, kind::string, nullptr},
      {cfg::replication_factor, kind::integer, "-1", -1},
      {cfg::task_timeout_ms, kind::integer, "300000", 0},
      {cfg::state_cleanup_delay_ms, kind::integer, "600000", 0},
      {cfg::cache_max_bytes, kind::integer, "10485760", 0},
      {cfg::rocksdb_memory_bytes, kind::integer, "268435456", 1 << 20},
      {cfg::restore_bulk_min_records, kind::integer, "10000", 0},
      {cfg::restore_thread_enabled, kind::boolean, "false"},
      {cfg::log_level, kind::choice, "info", 0, {"trace", "debug", "info", "warn", "error", "off"}},
      {cfg::metrics_recording_level, kind::choice, "info", 0, {"info", "debug", "trace", "off"}},
      // 1000 while metrics are recorded, else 0: resolved by the runtime when unset.
      {cfg::statistics_interval_ms, kind::integer, nullptr, 0},
      {cfg::log_format, kind::choice, "text", 0, {"text", "json"}},
      {cfg::process_id, kind::string, nullptr},
      {cfg::broker_control, kind::string, nullptr},
      {cfg::windowstore_changelog_additional_retention_ms, kind::integer, "86400000", 0},
      {cfg::window_close_idle_ms, kind::integer, "-1", -1},
      {cfg::late_records_topic, kind::string, nullptr},
      {cfg::application_server, kind::host_port, nullptr},
  };
  return all;
}

constexpr std::string_view passthrough_prefixes[] = {"consumer.", "producer.", "admin."};

const setting* find_setting(std::string_view key) {
  for (const auto& s : settings()) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

bool is_passthrough(std::string_view key) {
  return std::any_of(
      std::begin(passthrough_prefixes), std::end(passthrough_prefixes),
      [&](std::string_view p) { return key.size() > p.size() && key.starts_with(p); });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::int64_t> parse_int(std::string_view v) {
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

void validate(std::string_view key, std::string_view raw_value) {
  if (is_passthrough(key)) return;
  const std::string value = log::shown(key, raw_value);  // what messages may show
  const setting* s = find_setting(key);
  if (s == nullptr) {
    std::string best;
    std::size_t best_distance = 4;
    for (const auto& k : settings()) {
      std::size_t d = edit_distance(key, k.key);
      if (d < best_distance) {
        best_distance = d;
        best = k.key;
      }
    }
    throw config_error(fmt::format(
        "unknown setting '{}'{}; librdkafka properties take a 'consumer.', 'producer.' or "
        "'admin.' prefix",
        key, best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
  }
  switch (s->type) {
    case kind::string:
      if (raw_value.empty()) throw config_error(fmt::format("setting '{}' must not be empty", key));
      break;
    case kind::integer: {
      auto n = parse_int(raw_value);
      if (!n || *n < s->min) {
        throw config_error(
            fmt::format("setting '{}' must be an integer >= {}, got '{}'", key, s->min, value));
      }
      break;
    }
    case kind::boolean:
      if (raw_value != "true" && raw_value != "false") {
        throw config_error(fmt::format("setting '{}' must be true or false, got '{}'", key, value));
      }
      break;
    case kind::host_port: {
      const auto colon = raw_value.rfind(':');
      const auto port =
          colon == std::string_view::npos ? std::nullopt : parse_int(raw_value.substr(colon + 1));
      if (colon == 0 || !port || *port < 0 || *port > 65535) {
        throw config_error(fmt::format(
            "setting '{}' must be host:port (port 0-65535; 0 picks a free one), got '{}'", key,
            value));
      }
      break;
    }
    case kind::choice:
      if (std::find(s->choices.begin(), s->choices.end(), raw_value) == s->choices.end()) {
        throw config_error(fmt::format("setting '{}' must be one of {}, got '{}'", key,
                                       fmt::join(s->choices, ", "), value));
      }
      break;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

config::config(std::initializer_list<std::pair<std::string, std::string>> items) {
  for (const auto& [k, v] : items) set(k, v);
}

config& config::set(std::string key, std::string value) {
  validate(key, value);
  _values.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

bool config::contains(std::string_view key) const {
  return _values.find(key) != _values.end();
}

std::optional<std::string> config::get(std::string_view key) const {
  if (auto it = _values.find(key); it != _values.end()) return it->second;
  if (const setting* s = find_setting(key); s != nullptr && s->default_value != nullptr) {
    return std::string(s->default_value);
  }
  return std::nullopt;
}

std::string config::get_string(std::string_view key) const {
  auto v = get(key);
  if (!v) throw config_error(fmt::format("setting '{}' is required", key));
  return *v;
}

std::int64_t config::get_int(std::string_view key) const {
  std::string v = get_string(key);
  auto n = parse_int(v);
  if (!n) {
    throw config_error(
        fmt::format("setting '{}' must be an integer, got '{}'", key, log::shown(key, v)));
  }
  return *n;
}

bool config::get_bool(std::string_view key) const {
  return get_string(key) == "true";
}

std::map<std::string, std::string> config::with_prefix(std::string_view prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : _values) {
    if (k.size() > prefix.size() && std::string_view(k).starts_with(prefix)) {
      out.emplace(k.substr(prefix.size()), v);
    }
  }
  return out;
}

config config::from_properties_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error(fmt::format("cannot read properties file '{}'", path));
  config c;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.front() == '!') continue;
    auto eq = l.find_first_of("=:");
    if (eq == std::string_view::npos) {
      // Without a separator the line may be `key value`: never show a secret's.
      throw config_error(fmt::format("{}:{}: expected key=value, got '{}'", path, number,
                                     log::is_secret_key(l) ? log::redacted_text : l));
    }
    try {
      c.set(std::string(trim(l.substr(0, eq))), std::string(trim(l.substr(eq + 1))));
    } catch (const config_error& e) {
      throw config_error(fmt::format("{}:{}: {}", path, number, e.what()));
    }
  }
  return c;
}

config& config::apply_environment(std::string_view prefix) {
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view entry(*env);
    if (!entry.starts_with(prefix)) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(entry.substr(prefix.size(), eq - prefix.size()));
    for (char& ch : key)
      ch = ch == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    try {
      set(key, std::string(entry.substr(eq + 1)));
    } catch (const config_error& e) {
      throw config_error(fmt::format("environment variable {}: {}", entry.substr(0, eq), e.what()));
    }
  }
  return *this;
}

std::vector<std::string> config::known_keys() {
  std::vector<std::string> out;
  for (const auto& s : settings()) out.emplace_back(s.key);
  return out;
}

}  // namespace rill
