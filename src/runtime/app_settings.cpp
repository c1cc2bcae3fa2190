#include "src/runtime/app_settings.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include <fmt/format.h>

#include <rill/errors.hpp>

namespace rill::runtime {

namespace {
std::map<std::string, std::string> merged(std::map<std::string, std::string> defaults,
                                          const std::map<std::string, std::string>& overrides) {
  for (const auto& [k, v] : overrides) defaults[k] = v;
  return defaults;
}

// Removes `key` from `props`, returning its value if it was there.
std::optional<std::string> take(std::map<std::string, std::string>& props, const char* key) {
  auto node = props.extract(key);
  if (node.empty()) return std::nullopt;
  return std::move(node.mapped());
}
}  // namespace

app_shared settings_from(const detail::compiled_topology& topology, const config& cfg) {
  auto app_id = cfg.get(cfg::application_id);
  if (!app_id) {
    throw config_error(
        "setting 'application.id' is required: it names the consumer group and internal topics");
  }
  const bool eos = cfg.get_string(cfg::processing_guarantee) == "exactly_once_v2";
  app_shared s;
  s.topology = &topology;
  s.application_id = *app_id;
  s.client_id = cfg.get(cfg::client_id).value_or(*app_id);
  s.log = log::logger().with("app", *app_id);
  s.exactly_once = eos;
  const std::string level = cfg.get_string(cfg::metrics_recording_level);
  s.record_metrics = level != "off";
  s.tasks.metrics = level == "trace"   ? recording::trace
                    : level == "debug" ? recording::debug
                    : level == "info"  ? recording::info
                                       : recording::off;
  s.tasks.application_id = *app_id;
  s.tasks.log = s.log;
  s.tasks.max_task_idle_ms = cfg.get_int(cfg::max_task_idle_ms);
  s.tasks.errors = error_policy::from_config(cfg);
  s.tasks.windows = window_policy::from_config(cfg);
  s.tasks.wall_clock = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  // Kafka Streams' defaults: 30 s at-least-once, 100 ms exactly-once.
  s.commit_interval = std::chrono::milliseconds(cfg.get(cfg::commit_interval_ms)
                                                    ? cfg.get_int(cfg::commit_interval_ms)
                                                    : (eos ? 100 : 30000));
  s.poll_timeout = std::chrono::milliseconds(cfg.get_int(cfg::poll_ms));
  s.task_timeout = std::chrono::milliseconds(cfg.get_int(cfg::task_timeout_ms));
  s.buffered_per_partition =
      static_cast<std::size_t>(cfg.get_int(cfg::buffered_records_per_partition));
  s.cache_bytes_per_thread = static_cast<std::size_t>(cfg.get_int(cfg::cache_max_bytes) /
                                                      cfg.get_int(cfg::num_stream_threads));
  s.state_cleanup_delay = std::chrono::milliseconds(cfg.get_int(cfg::state_cleanup_delay_ms));
  s.restore_bulk_min_records = cfg.get_int(cfg::restore_bulk_min_records);
  s.restore_thread = cfg.get_bool(cfg::restore_thread_enabled);
  s.next_state_cleanup = std::make_shared<std::atomic<std::int64_t>>(0);
  s.consumer_props = merged({{"group.id", *app_id},
                             {"enable.auto.commit", "false"},
                             {"auto.offset.reset", "earliest"},
                             // Range keeps partition p of co-partitioned topics on one member.
                             {"partition.assignment.strategy", "range"},
                             {"enable.partition.eof", "false"},
                             // As Kafka's Java clients: pipelined requests and answers are
                             // not held back for a delayed ACK (docs/config.md).
                             {"socket.nagle.disable", "true"},
                             // A fetch for partitions at their end waits this long on the
                             // broker, and the next fetch to that broker waits for it: 100 ms,
                             // not librdkafka's 500, bounds that stall (docs/config.md).
                             {"fetch.wait.max.ms", "100"}},
                            cfg.with_prefix("consumer."));
  if (eos) s.consumer_props.emplace("isolation.level", "read_committed");
  refuse_broken_guarantees(s.consumer_props, eos);
  s.producer_props = merged({{"partitioner", "murmur2_random"},
                             {"enable.idempotence", "true"},
                             {"socket.nagle.disable", "true"},
                             // Rill creates only its internal topics: a record for a topic
                             // that does not exist fails (docs/operations.md), whatever the
                             // broker's auto.create.topics.enable.
                             {"allow.auto.create.topics", "false"}},
                            cfg.with_prefix("producer."));
  if (eos) s.producer_props.emplace("transaction.timeout.ms", "10000");
  // librdkafka's statistics feed the client metrics: consumer./producer.statistics.interval.ms,
  // else statistics.interval.ms, else every second while metrics are recorded.
  const std::string statistics_interval =
      cfg.get(cfg::statistics_interval_ms).value_or(s.record_metrics ? "1000" : "0");
  s.consumer_statistics_interval =
      take(s.consumer_props, "statistics.interval.ms").value_or(statistics_interval);
  s.producer_statistics_interval =
      take(s.producer_props, "statistics.interval.ms").value_or(statistics_interval);
  for (const auto& sub : topology.subtopologies) {
    for (const auto& t : sub.source_topics)
      s.source_topics.push_back(detail::resolve_topic(*app_id, t));
  }
  return s;
}

void refuse_broken_guarantees(const std::map<std::string, std::string>& consumer, bool eos) {
  if (auto it = consumer.find("enable.auto.commit"); it != consumer.end() && it->second != "false")
    throw config_error(
        "setting 'consumer.enable.auto.commit=" + it->second +
        "' is refused: the consumer would commit offsets of records Rill has not processed "
        "yet, so a crash would lose them; Rill commits offsets itself (commit.interval.ms)");
  if (!eos) return;
  if (auto it = consumer.find("isolation.level"); it->second != "read_committed")
    throw config_error("setting 'consumer.isolation.level=" + it->second +
                       "' is refused under processing.guarantee=exactly_once_v2: the app would "
                       "read records of aborted transactions; remove it (read_committed is set)");
}

void refuse_split_tasks(const detail::compiled_topology& topology,
                        const std::map<std::string, std::string>& consumer) {
  auto it = consumer.find("partition.assignment.strategy");
  if (it == consumer.end() || it->second == "range") return;
  for (const auto& sub : topology.subtopologies) {
    if (sub.source_topics.size() < 2) continue;
    std::vector<std::string> names;
    for (const auto& t : sub.source_topics) names.push_back(t.name);
    throw config_error(fmt::format(
        "setting 'consumer.partition.assignment.strategy={}' is refused: subtopology {} reads "
        "topics {}, and its task for partition p needs partition p of each on one member, which "
        "only librdkafka's range assignor guarantees; remove the setting (range is the default)",
        it->second, sub.id, fmt::join(names, ", ")));
  }
}

void apply_log_settings(const config& cfg) {
  if (cfg.contains(cfg::log_level)) set_log_level(log::parse_level(cfg.get_string(cfg::log_level)));
  if (cfg.contains(cfg::log_format))
    set_log_format(log::parse_format(cfg.get_string(cfg::log_format)));
}

namespace {
std::string random_id() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}
}  // namespace

process_identity::process_identity(const config& cfg, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::error_code ec;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (auto id = cfg.get(cfg::process_id)) {
    _id = *id;
    std::string safe = _id;
    for (char& c : safe)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    const std::string path = dir + "/rill-process-" + safe + ".lock";
    _fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (_fd < 0) throw error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    if (::flock(_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(_fd);
      _fd = -1;
      throw config_error(fmt::format(
          "setting 'process.id={}' is in use by another live instance on state directory '{}' "
          "(it holds {}): two instances with one process.id share transactional ids and fence "
          "each other; give each instance its own process.id, or leave it unset",
          _id, dir, path));
    }
    return;
  }
  const std::string path = dir + "/rill-process-id";
  _fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (_fd < 0 || ::flock(_fd, LOCK_EX | LOCK_NB) != 0) {
    if (_fd >= 0) ::close(_fd);
    _fd = -1;
    _id = random_id();
    log::logger()
        .with("app", cfg.get(cfg::application_id).value_or(""))
        .warn(
            "another instance holds the process id file; this one uses a new process id (give "
            "each instance its own state.dir, or set process.id)",
            log::kv("file", path), log::kv("process_id", _id));
    return;
  }
  char buf[64] = {};
  const ssize_t n = ::pread(_fd, buf, sizeof buf - 1, 0);
  std::string existing(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!existing.empty() && (existing.back() == '\n' || existing.back() == ' '))
    existing.pop_back();
  if (!existing.empty()) {
    _id = existing;
    return;
  }
  _id = random_id();
  const std::string line = _id + "\n";
  if (::pwrite(_fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    log::logger()
        .with("app", cfg.get(cfg::application_id).value_or(""))
        .warn("cannot write the process id file; the process id will change at the next start",
              log::kv("file", path));
  }
}

process_identity::~process_identity() {
  if (_fd >= 0) {
    ::flock(_fd, LOCK_UN);
    ::close(_fd);
  }
}

}  // namespace rill::runtime
