// Settings of a Rill application, under Kafka Streams' names where they exist
// (application.id, bootstrap.servers, num.stream.threads, commit.interval.ms, ...).
// librdkafka properties pass through with a `consumer.`, `producer.` or `admin.` prefix
// and are checked by librdkafka when the clients are made.
//
// Every key and value is checked when set: an unknown key or a bad value throws
// config_error naming it. docs/config.md lists every setting. A secret's value (keys holding
// `password`, `secret`, sasl.jaas.config, basic.auth.user.info, ...) never appears in an
// error message: it shows as [redacted].
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rill/errors.hpp>

namespace rill {

class config {
 public:
  config() = default;
  config(std::initializer_list<std::pair<std::string, std::string>> items);

  // Sets one setting; throws config_error for an unknown key or an invalid value.
  config& set(std::string key, std::string value);
  bool contains(std::string_view key) const;

  // The value set, else the default, else nullopt.
  std::optional<std::string> get(std::string_view key) const;
  std::string get_string(std::string_view key) const;  // throws config_error if unset
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;

  // Settings that start with prefix, with the prefix removed (e.g. "consumer.").
  std::map<std::string, std::string> with_prefix(std::string_view prefix) const;
  const std::map<std::string, std::string, std::less<>>& values() const noexcept { return _values; }

  // key=value lines; '#' and '!' start comments, as in Java .properties files.
  static config from_properties_file(const std::string& path);
  // Overrides from the environment: RILL_CONFIG_COMMIT_INTERVAL_MS=500 sets
  // commit.interval.ms; RILL_CONFIG_CONSUMER_FETCH_WAIT_MAX_MS sets consumer.fetch.wait.max.ms
  // (after the prefix, '_' becomes '.' and letters lower case).
  config& apply_environment(std::string_view prefix = "RILL_CONFIG_");

  // The names of every known setting (for docs and error messages).
  static std::vector<std::string> known_keys();

 private:
  std::map<std::string, std::string, std::less<>> _values;
};

// Keys, so that a typo is a compile error.
namespace cfg {
inline constexpr const char* application_id = "application.id";
inline constexpr const char* bootstrap_servers = "bootstrap.servers";
inline constexpr const char* num_stream_threads = "num.stream.threads";
inline constexpr const char* commit_interval_ms = "commit.interval.ms";
inline constexpr const char* processing_guarantee = "processing.guarantee";
inline constexpr const char* state_dir = "state.dir";
inline constexpr const char* max_task_idle_ms = "max.task.idle.ms";
inline constexpr const char* deserialization_handler = "default.deserialization.exception.handler";
inline constexpr const char* processing_handler = "processing.exception.handler";
inline constexpr const char* dead_letter_topic = "errors.dead.letter.queue.topic.name";
inline constexpr const char* buffered_records_per_partition = "buffered.records.per.partition";
inline constexpr const char* poll_ms = "poll.ms";
inline constexpr const char* client_id = "client.id";
inline constexpr const char* replication_factor = "replication.factor";
inline constexpr const char* task_timeout_ms = "task.timeout.ms";
inline constexpr const char* state_cleanup_delay_ms = "state.cleanup.delay.ms";
inline constexpr const char* cache_max_bytes = "statestore.cache.max.bytes";
inline constexpr const char* rocksdb_memory_bytes = "rocksdb.memory.bytes";
inline constexpr const char* restore_bulk_min_records = "restore.bulk.min.records";
inline constexpr const char* restore_thread_enabled = "restore.thread.enabled";
inline constexpr const char* log_level = "log.level";
inline constexpr const char* metrics_recording_level = "metrics.recording.level";
inline constexpr const char* statistics_interval_ms = "statistics.interval.ms";
inline constexpr const char* log_format = "log.format";
inline constexpr const char* process_id = "process.id";
inline constexpr const char* broker_control = "broker.control";
inline constexpr const char* windowstore_changelog_additional_retention_ms =
    "windowstore.changelog.additional.retention.ms";
inline constexpr const char* window_close_idle_ms = "window.close.idle.ms";
inline constexpr const char* late_records_topic = "late.records.topic";
inline constexpr const char* application_server = "application.server";
}  // namespace cfg

}  // namespace rill
