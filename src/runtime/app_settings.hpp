// How a config becomes the settings every stream thread of an app shares: defaults per
// guarantee, client properties, handlers, timeouts. Used by streams_app and by tests that
// drive stream threads themselves.
#pragma once

#include <map>
#include <string>

#include <rill/config.hpp>

#include "src/runtime/app_shared.hpp"

namespace rill::runtime {

// Everything but the clients, the state directory and RocksDB, which the caller provides.
// Throws config_error.
app_shared settings_from(const detail::compiled_topology& topology, const config& cfg);

// Refuses consumer settings that would silently break the processing guarantee (auto commit;
// under exactly-once, an isolation level other than read_committed). Throws config_error.
void refuse_broken_guarantees(const std::map<std::string, std::string>& consumer, bool eos);

// Refuses a consumer partition.assignment.strategy other than range when a subtopology reads
// more than one topic: its task needs partition p of all of them, and librdkafka's other
// assignors (roundrobin, cooperative-sticky) may deal them to different members. Checked by
// streams_app, on librdkafka's clients; the simulated cluster's cooperative assignor keeps
// them together. Throws config_error.
void refuse_split_tasks(const detail::compiled_topology& topology,
                        const std::map<std::string, std::string>& consumer);

// log.level and log.format, where the config sets them, become Rill's logger's (process-wide;
// spdlog's global level and default logger are never touched).
void apply_log_settings(const config& cfg);

// A process id that stays the same across restarts: `process.id` if set, else the one kept in
// `<dir>/rill-process-id` (made on first use). Exactly-once derives transactional ids from it,
// so a restarted instance fences what its predecessor left open. The file is locked while the
// instance lives: a second instance on the same state directory gets a fresh id of its own
// (else the two would keep fencing each other). An explicit process.id is locked too (a file
// `<dir>/rill-process-<id>.lock`): a second live instance with the same one on the same state
// directory is refused with config_error. Files 0600, directories 0700.
class process_identity {
 public:
  process_identity(const config& cfg, const std::string& dir);
  ~process_identity();
  process_identity(const process_identity&) = delete;
  process_identity& operator=(const process_identity&) = delete;
  const std::string& id() const noexcept { return _id; }

 private:
  std::string _id;
  int _fd = -1;
};

}  // namespace rill::runtime
