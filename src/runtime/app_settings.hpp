// How a config becomes the settings every stream thread of an app shares: defaults per
// guarantee, client properties, handlers, timeouts. Used by streams_app and by tests that
// drive stream threads themselves.
#pragma once

#include <rill/config.hpp>

#include "src/runtime/stream_thread.hpp"

namespace rill::runtime {

// Everything but the clients, the state directory and RocksDB, which the caller provides.
// Throws config_error.
app_shared settings_from(const detail::compiled_topology& topology, const config& cfg);

// A process id that stays the same across restarts: `process.id` if set, else one kept in
// `<dir>/rill-process-id` (made on first use). Exactly-once derives transactional ids from it.
std::string stable_process_id(const config& cfg, const std::string& dir);

}  // namespace rill::runtime
