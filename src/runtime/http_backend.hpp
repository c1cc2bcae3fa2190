// The HTTP endpoint of a running app (application.server set): rill::http::server over the
// app's stores, state, topology and instance directory (docs/queries.md).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <rill/queries.hpp>
#include <rill/streams_app.hpp>

#include "src/http/backend.hpp"
#include "src/http/server.hpp"
#include "src/runtime/instance_directory.hpp"
#include "topology/compiled.hpp"

namespace rill::runtime {

// What the backend reads of the app, all safe to call from the server's threads.
struct app_view {
  std::function<app_state()> state;
  std::function<std::size_t()> live_threads;
  std::string dot;  // the topology
  const detail::compiled_topology* topology = nullptr;
  std::string application_id;
  std::function<std::map<std::string, std::int32_t>()> partition_counts;
  std::shared_ptr<detail::store_source> stores;
  std::vector<std::pair<std::string, http_page_fn>> pages;  // the app's own GET routes
  std::function<std::string()> metrics;                     // Prometheus' text format
};

class app_backend final : public http::backend {
 public:
  explicit app_backend(app_view view) : _view(std::move(view)) {}
  void set_self(std::string self) { _self = std::move(self); }
  // The directory starts after the server (it needs the bound address); until then owners
  // are not known (503).
  void set_directory(const instance_directory* d) { _directory.store(d); }

  bool running() override;
  std::string state_json() override;
  std::string topology_dot() override { return _view.dot; }
  std::optional<std::string> key_json(const std::string& store, const std::string& key) override;
  std::string range_json(const std::string& store, const std::optional<std::string>& from,
                         const std::optional<std::string>& to) override;
  std::string window_json(const std::string& store, const std::string& key, std::int64_t from_ms,
                          std::int64_t to_ms) override;
  std::optional<std::string> owner_of(const std::string& store, const std::string& key) override;
  std::vector<std::string> other_instances() override;
  std::string self() override { return _self; }

 private:
  // Each local task's store of that name, as JSON.
  void each_reader(const std::string& store, const std::function<void(detail::json_reader&)>& f);
  app_view _view;
  std::string _self;
  std::atomic<const instance_directory*> _directory{nullptr};
};

// The server and its backend, up once the app has its address: `server` is application.server
// (port 0: a free one, and the address advertised is the bound one).
struct app_http {
  std::unique_ptr<app_backend> backend;
  std::unique_ptr<http::server> server;
  std::string advertised;  // host:port
};
app_http start_http(const std::string& server, app_view view);

}  // namespace rill::runtime
