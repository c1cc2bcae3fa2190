// What the HTTP server serves: the app implements it (or a test's fake). The server knows
// nothing of the runtime; everything it answers comes through here.
//
// Threading: called on the server's own threads, concurrently, so an implementation must be
// safe to call from several threads at once. A call may block (a store query waits for a
// consistent point) and holds one server thread while it does.
//
// Errors: the store calls answer JSON text, and throw
//   rill::invalid_store_error      -> 404: no store of that name here, or not of that type;
//   rill::store_unavailable_error  -> 503 with Retry-After: tasks moving or restoring, retry;
//   std::invalid_argument          -> 400: a key that cannot be decoded, from > to, ...
// Anything else thrown is a 500 with its what().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rill::http {

class backend {
 public:
  virtual ~backend() = default;

  // /health: 200 while true, else 503; both with state_json() as the body.
  virtual bool running() = 0;
  // The app's state as a JSON object, e.g. {"state":"RUNNING","threads":2}.
  virtual std::string state_json() = 0;
  // The topology as Graphviz DOT (/topology, and /topology.svg through `dot`).
  virtual std::string topology_dot() = 0;

  // The value of `key` (as it came in the URL) in `store` as JSON, or nullopt if there is
  // no such key (404). Only this instance's tasks: the server forwards keys it does not own.
  virtual std::optional<std::string> key_json(const std::string& store, const std::string& key) = 0;
  // A JSON array of {"key":..,"value":..} with from <= key <= to (either bound absent: open),
  // from this instance's tasks only; the server gathers the other instances' itself.
  virtual std::string range_json(const std::string& store, const std::optional<std::string>& from,
                                 const std::optional<std::string>& to) = 0;
  // A JSON array of the windows of `key` starting in [from_ms, to_ms], this instance only.
  virtual std::string window_json(const std::string& store, const std::string& key,
                                  std::int64_t from_ms, std::int64_t to_ms) = 0;

  // Where the active task holding `key` lives: nullopt (or self()) means here, else the
  // "host:port" of the instance that holds it.
  virtual std::optional<std::string> owner_of(const std::string& store, const std::string& key) = 0;
  // The "host:port" of every other instance of the app (for ranges gathered from all).
  virtual std::vector<std::string> other_instances() = 0;
  // This instance's "host:port", as the others know it.
  virtual std::string self() = 0;
};

}  // namespace rill::http
