#include <rill/streams_app.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <rill/embedded_broker.hpp>

#include "src/kafka/rdkafka_client.hpp"
#include "src/log/log.hpp"
#include "src/log/secrets.hpp"
#include "src/runtime/app_metrics.hpp"
#include "src/runtime/app_settings.hpp"
#include "src/runtime/cluster.hpp"
#include "src/runtime/global_state.hpp"
#include "src/runtime/http_backend.hpp"
#include "src/runtime/instance_directory.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/stream_thread.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace rill {

std::string_view to_string(app_state s) {
  switch (s) {
    case app_state::created:
      return "created";
    case app_state::rebalancing:
      return "rebalancing";
    case app_state::running:
      return "running";
    case app_state::pending_shutdown:
      return "pending_shutdown";
    case app_state::not_running:
      return "not_running";
    case app_state::error:
      return "error";
  }
  return "unknown";
}

struct streams_app::impl {
  topology topo;
  config cfg;
  log::secret_scope secrets;  // every log line is scrubbed of the config's secret values
  runtime::app_shared shared;
  runtime::cluster_connection cluster;
  std::unique_ptr<runtime::process_identity> identity;  // exactly-once: locked for our lifetime
  std::unique_ptr<state::state_directory> state_dir;
  std::unique_ptr<state::rocksdb_env> rocksdb;
  state::options_setter rocksdb_setter;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  app_state current = app_state::created;
  std::function<void(app_state, app_state)> listener;
  std::deque<std::pair<app_state, app_state>> pending_changes;  // for the listener, in order
  std::mutex delivery;                                          // one deliverer at a time
  std::function<uncaught_response(const std::exception&)> uncaught;
  std::map<int, runtime::thread_state> thread_states;
  std::unique_ptr<runtime::global_stores> globals;
  std::unique_ptr<runtime::global_thread> global;
  std::unique_ptr<runtime::instance_directory> directory;  // with application.server
  std::vector<std::unique_ptr<runtime::stream_thread>> threads;
  std::vector<std::unique_ptr<runtime::stream_thread>> retired;  // joined, kept for counters
  int next_thread_index = 1;
  std::uint64_t replaced = 0;
  runtime::app_http http;  // with application.server; stopped before anything it reads goes
  std::vector<std::pair<std::string, http_page_fn>> pages;  // add_http_page, for http

  impl(topology t, config c) : topo(std::move(t)), cfg(std::move(c)) {}

  runtime::metric_sources metric_sources() const {  // under mutex
    runtime::metric_sources s{shared.client_id, current, {}, {}, replaced};
    for (const auto& t : threads) s.live.push_back(t.get());
    for (const auto& t : retired) s.retired.push_back(t.get());
    return s;
  }

  // Moves the app to `to` unless it is closing or failed; calls the listener outside the lock.
  // Moves the app to `to`. The listener hears every change, in order, outside the state
  // lock (so it may call the app): changes queue under the lock and one thread at a time
  // delivers the queue.
  void transition(app_state to, std::unique_lock<std::mutex>& lock) {
    app_state from = current;
    if (from == to) return;
    current = to;
    pending_changes.emplace_back(to, from);
    changed.notify_all();
    lock.unlock();
    shared.log.info("app state changed", log::kv("from", to_string(from)),
                    log::kv("to", to_string(to)));
    {
      std::lock_guard deliver(delivery);
      for (;;) {
        std::pair<app_state, app_state> change;
        std::function<void(app_state, app_state)> l;
        {
          std::lock_guard state_lock(mutex);
          if (pending_changes.empty()) break;
          change = pending_changes.front();
          pending_changes.pop_front();
          l = listener;
        }
        if (l) l(change.first, change.second);
      }
    }
    lock.lock();
  }

  void on_thread_state(int index, runtime::thread_state s) {
    std::unique_lock lock(mutex);
    thread_states[index] = s;
    changed.notify_all();
    if (current != app_state::rebalancing && current != app_state::running) return;
    bool all_running = std::all_of(thread_states.begin(), thread_states.end(), [](const auto& t) {
      return t.second == runtime::thread_state::running || t.second == runtime::thread_state::dead;
    });
    bool any_alive = std::any_of(thread_states.begin(), thread_states.end(), [](const auto& t) {
      return t.second != runtime::thread_state::dead;
    });
    if (!any_alive) return;
    if (all_running && directory) announce();
    transition(all_running ? app_state::running : app_state::rebalancing, lock);
  }

  // Tells the other instances which partitions this one's live threads hold (under mutex).
  void announce() {
    runtime::instance_directory::partitions held;
    for (const auto& t : threads) {
      if (thread_states[t->index()] == runtime::thread_state::dead) continue;
      auto a = t->assignment();
      held.insert(a.begin(), a.end());
    }
    directory->publish(held);
  }

  // With application.server: the HTTP endpoint (bound first: port 0 picks the port the
  // instance is then known by), and the directory of instances.
  void start_discovery(kafka::admin& admin, std::shared_ptr<detail::store_source> stores) {
    auto server = cfg.get(cfg::application_server);
    if (!server) return;
    runtime::app_view view;
    view.state = [this] {
      std::lock_guard lock(mutex);
      return current;
    };
    view.live_threads = [this] {
      std::lock_guard lock(mutex);
      return static_cast<std::size_t>(std::count_if(threads.begin(), threads.end(),
                                                    [](const auto& t) { return !t->finished(); }));
    };
    view.dot = topo.to_dot();
    view.topology = shared.topology;
    view.application_id = shared.application_id;
    view.partition_counts = [this] { return shared.partition_counts; };
    view.stores = std::move(stores);
    view.pages = pages;
    view.metrics = [this] {
      std::lock_guard lock(mutex);
      return runtime::prometheus_text(runtime::collect_metrics(metric_sources()));
    };
    http = runtime::start_http(*server, std::move(view));
    const std::string topic = runtime::instances_topic(shared.application_id);
    runtime::create_instances_topic(
        admin, topic, static_cast<std::int32_t>(cfg.get_int(cfg::replication_factor)));
    directory = std::make_unique<runtime::instance_directory>(
        *cluster.clients, shared.consumer_props, topic, http.advertised,
        shared.application_id + "-instances", shared.log.with("thread", "instances"));
    directory->start();
    http.backend->set_directory(directory.get());
  }

  void on_thread_error(int index, std::exception_ptr failure) {
    uncaught_response response = uncaught_response::shutdown_client;
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
      std::function<uncaught_response(const std::exception&)> handler;
      {
        std::lock_guard lock(mutex);
        handler = uncaught;
      }
      if (handler) {
        try {
          response = handler(e);
        } catch (...) {
          response = uncaught_response::shutdown_client;
        }
      }
    } catch (...) {
    }
    std::unique_lock lock(mutex);
    if (current == app_state::pending_shutdown || current == app_state::not_running) return;
    if (response == uncaught_response::replace_thread) {
      shared.log.warn("stream thread died; replacing it", log::kv("thread", std::to_string(index)),
                      log::kv("error", what));
      ++replaced;
      start_thread_locked();
      return;
    }
    shared.log.error("stream thread died; shutting the instance down",
                     log::kv("thread", std::to_string(index)), log::kv("error", what));
    for (auto& t : threads) t->request_stop();
    transition(app_state::error, lock);
  }

  // The process identity (exactly-once), the state directory and RocksDB's shared memory.
  void open_state() {
    auto& s = shared;
    const std::string app_dir = cfg.get_string(rill::cfg::state_dir) + "/" + s.application_id;
    if (s.exactly_once) {
      if (cluster.embedded || cfg.get(rill::cfg::broker_control)) {
        s.log.warn(
            "exactly_once_v2 on the embedded broker is at-least-once at best: librdkafka's mock "
            "cluster ignores read_committed, writes no transaction markers and never fences "
            "(docs/exactly-once.md)");
      }
      identity = std::make_unique<runtime::process_identity>(cfg, app_dir);
      s.transactional_id_prefix = s.application_id + "-" + identity->id();
      s.process_id = identity->id();
    }
    if (!s.topology->stores.empty()) {
      state_dir = std::make_unique<state::state_directory>(app_dir);
      rocksdb = std::make_unique<state::rocksdb_env>(
          static_cast<std::size_t>(cfg.get_int(rill::cfg::rocksdb_memory_bytes)), rocksdb_setter);
      s.state_directory = state_dir.get();
      s.rocksdb = rocksdb.get();
    }
  }

  // Global tables: restored in full before any stream thread starts, then kept up to date
  // by the global thread. A global thread that fails takes the instance down.
  void start_globals(kafka::admin& admin) {
    const auto& topo = *shared.topology;
    if (topo.globals.empty()) return;
    {
      std::lock_guard lock(mutex);  // queries read it under the lock
      globals = std::make_unique<runtime::global_stores>(topo);
    }
    std::map<std::string, std::int32_t> counts;
    if (kafka::error e =
            admin.partition_counts(globals->topics(), counts, std::chrono::seconds(30))) {
      throw error(fmt::format("cannot read the global tables' topics on {}: {}",
                              cluster.bootstrap_servers, e.message()));
    }
    global = std::make_unique<runtime::global_thread>(
        *cluster.clients, shared.consumer_props, counts, *globals,
        shared.application_id + "-global", shared.log.with("thread", "global"));
    global->restore(shared.task_timeout);
    shared.globals = globals.get();
    global->start([this](std::exception_ptr e) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        what = x.what();
      } catch (...) {
      }
      std::unique_lock lock(mutex);
      shared.log.error("the global thread died; shutting the instance down",
                       log::kv("error", what));
      if (current == app_state::pending_shutdown || current == app_state::not_running) return;
      for (auto& t : threads) t->request_stop();
      transition(app_state::error, lock);
    });
  }

  void start_thread_locked() {
    int index = next_thread_index++;
    auto t = std::make_unique<runtime::stream_thread>(
        index, shared, [this](int i, runtime::thread_state s) { on_thread_state(i, s); },
        [this](int i, std::exception_ptr e) { on_thread_error(i, e); });
    thread_states[index] = runtime::thread_state::starting;
    threads.push_back(std::move(t));
    threads.back()->start();
  }
};

streams_app::streams_app(topology t, config c)
    : _impl(std::make_unique<impl>(std::move(t), std::move(c))) {
  config& cfg = _impl->cfg;
  _impl->secrets = log::secret_scope(log::secret_values(cfg.values()));
  for (std::string_view prefix : {"consumer.", "producer.", "admin."}) {
    kafka::validate_properties(cfg.with_prefix(prefix), prefix);
  }
  _impl->shared = runtime::settings_from(_impl->topo.compiled(), cfg);
  runtime::refuse_split_tasks(_impl->topo.compiled(), _impl->shared.consumer_props);
  runtime::apply_log_settings(cfg);  // once the config is known good
  auto& s = _impl->shared;

  _impl->cluster = runtime::connect_cluster(cfg.get_string(cfg::bootstrap_servers),
                                            cfg.get(cfg::broker_control).value_or(""));
  s.clients = _impl->cluster.clients.get();
}

streams_app::~streams_app() {
  close();
}

void streams_app::start() {
  auto& s = _impl->shared;
  {
    std::lock_guard lock(_impl->mutex);
    if (_impl->current != app_state::created)
      throw error("streams_app::start: the app was started already");
  }
  auto admin = _impl->cluster.clients->make_admin(_impl->cfg.with_prefix("admin."));
  s.partition_counts = runtime::prepare_topics(
      *admin, *s.topology, s.application_id,
      static_cast<std::int32_t>(_impl->cfg.get_int(cfg::replication_factor)),
      _impl->cluster.bootstrap_servers,
      _impl->cfg.get_int(cfg::windowstore_changelog_additional_retention_ms));
  _impl->open_state();
  _impl->start_globals(*admin);
  _impl->start_discovery(*admin, store_source());
  s.log.info("app starting", log::kv("threads", _impl->cfg.get_int(cfg::num_stream_threads)),
             log::kv("bootstrap", _impl->cluster.bootstrap_servers),
             log::kv("librdkafka", kafka::librdkafka_version()));
  std::unique_lock lock(_impl->mutex);
  _impl->transition(app_state::rebalancing, lock);
  for (std::int64_t i = 0; i < _impl->cfg.get_int(cfg::num_stream_threads); ++i)
    _impl->start_thread_locked();
}

bool streams_app::close(std::chrono::milliseconds timeout) {
  std::unique_lock lock(_impl->mutex);
  if (_impl->current == app_state::created) {
    _impl->transition(app_state::not_running, lock);
    return true;
  }
  if (_impl->current == app_state::not_running) return true;
  const bool failed = _impl->current == app_state::error;
  if (!failed) _impl->transition(app_state::pending_shutdown, lock);
  for (auto& t : _impl->threads) t->request_stop();
  const bool done = _impl->changed.wait_for(lock, timeout, [&] {
    return std::all_of(_impl->threads.begin(), _impl->threads.end(),
                       [](const auto& t) { return t->finished(); });
  });
  if (!done) {
    _impl->shared.log.warn("threads did not stop in time", log::kv("timeout_ms", timeout.count()));
    return false;
  }
  auto threads = std::move(_impl->threads);
  lock.unlock();
  for (auto& t : threads) t->join();
  lock.lock();
  _impl->retired.insert(_impl->retired.end(), std::make_move_iterator(threads.begin()),
                        std::make_move_iterator(threads.end()));
  if (_impl->global) {
    lock.unlock();
    _impl->global->stop();
    lock.lock();
  }
  if (_impl->directory) {
    lock.unlock();
    if (_impl->http.server) _impl->http.server->stop();
    _impl->directory->stop(std::chrono::seconds(10));
    lock.lock();
  }
  if (!failed) _impl->transition(app_state::not_running, lock);
  return true;
}

void streams_app::cleanup() {
  {
    std::lock_guard lock(_impl->mutex);
    if (_impl->current != app_state::created && _impl->current != app_state::not_running &&
        _impl->current != app_state::error) {
      throw error(fmt::format("streams_app::cleanup: the app is {}; close() it first",
                              to_string(_impl->current)));
    }
  }
  _impl->identity.reset();  // our own lock on the process id file
  const std::string dir =
      _impl->cfg.get_string(cfg::state_dir) + "/" + _impl->shared.application_id;
  if (state::state_directory::wipe(dir))
    _impl->shared.log.info("deleted the local state", log::kv("dir", dir));
}

app_state streams_app::state() const {
  std::lock_guard lock(_impl->mutex);
  return _impl->current;
}

bool streams_app::wait_until_running(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(_impl->mutex);
  _impl->changed.wait_for(lock, timeout, [&] {
    return _impl->current == app_state::running || _impl->current == app_state::error ||
           _impl->current == app_state::not_running;
  });
  return _impl->current == app_state::running;
}

void streams_app::set_state_listener(std::function<void(app_state, app_state)> listener) {
  std::lock_guard lock(_impl->mutex);
  _impl->listener = std::move(listener);
}

void streams_app::set_uncaught_exception_handler(
    std::function<uncaught_response(const std::exception&)> handler) {
  std::lock_guard lock(_impl->mutex);
  _impl->uncaught = std::move(handler);
}

void streams_app::set_deserialization_handler(exception_handler handler) {
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created) throw error("set handlers before start()");
  _impl->shared.tasks.errors.custom_deserialization = std::move(handler);
}

void streams_app::set_processing_handler(exception_handler handler) {
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created) throw error("set handlers before start()");
  _impl->shared.tasks.errors.custom_processing = std::move(handler);
}

void streams_app::set_trace_hook(trace_hook hook) {
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created) throw error("set the trace hook before start()");
  _impl->shared.tasks.trace = std::move(hook);
}

std::string streams_app::bootstrap_servers() const {
  return _impl->cluster.bootstrap_servers;
}

void streams_app::set_restore_listener(std::shared_ptr<restore_listener> listener) {
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created) throw error("set the restore listener before start()");
  _impl->shared.restore_events = std::move(listener);
}

void streams_app::set_rocksdb_config_setter(
    std::function<void(const std::string&, rocksdb::Options&)> setter) {
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created)
    throw error("set the RocksDB config setter before start()");
  _impl->rocksdb_setter = std::move(setter);
}

void streams_app::add_http_page(const std::string& path, http_page_fn page) {
  const bool reserved = path == "/stores" || path.starts_with("/stores/") || path == "/health" ||
                        path.starts_with("/topology") || path == "/metrics";
  if (path.empty() || path.front() != '/' || reserved)
    throw error("add_http_page: '" + path +
                "' is not a path of the app's own (it must start with '/' and not be one of "
                "/stores..., /health, /topology..., /metrics)");
  std::lock_guard lock(_impl->mutex);
  if (_impl->current != app_state::created) throw error("add_http_page before start()");
  _impl->pages.emplace_back(path, std::move(page));
}

app_counters streams_app::counters() const {
  std::lock_guard lock(_impl->mutex);
  return runtime::sum_counters(_impl->metric_sources());
}

std::vector<metric> streams_app::metrics() const {
  std::lock_guard lock(_impl->mutex);
  return runtime::collect_metrics(_impl->metric_sources());
}

namespace {

// The app's stores, for queries: each stream thread's running tasks, between its steps.
class app_stores final : public detail::store_source {
 public:
  // The running threads and the app's state, read together; the global tables once loaded.
  using threads_fn = std::function<std::vector<runtime::stream_thread*>(app_state&)>;
  using globals_fn = std::function<const runtime::global_stores*()>;
  app_stores(const detail::compiled_topology& topo, globals_fn globals, threads_fn threads)
      : _topo(topo), _globals(std::move(globals)), _threads(std::move(threads)) {}

  void for_each(const std::string& store, const std::function<void(state_store&)>& f) override {
    const bool global = _topo.global(store) != nullptr;
    if (!global && _topo.store(store) == nullptr) {
      std::vector<std::string> names;
      for (const auto& s : _topo.stores) names.push_back(s.spec.name);
      for (const auto& g : _topo.globals) names.push_back(g.store.name);
      throw invalid_store_error(
          fmt::format("no store named '{}'; the topology has [{}]", store, fmt::join(names, ", ")));
    }
    app_state state = app_state::created;
    const std::vector<runtime::stream_thread*> threads = _threads(state);
    if (state != app_state::running) {
      throw store_unavailable_error(fmt::format(
          "store '{}' cannot be queried while the app is {}; try again once it is running", store,
          to_string(state)));
    }
    if (global) {
      const runtime::global_stores* globals = _globals();
      if (globals == nullptr) throw store_unavailable_error("the global tables are not loaded");
      auto facade = globals->facade(store);
      f(*facade);
      return;
    }
    for (auto* t : threads) {
      const bool served = t->query(
          [&](runtime::task_manager& tasks) {
            tasks.for_each_running([&](runtime::stream_task& task) {
              if (task.stores() == nullptr) return;
              if (state_store* s = task.stores()->facade(store)) f(*s);
            });
          },
          std::chrono::seconds(30));
      if (!served) {
        throw store_unavailable_error(fmt::format(
            "store '{}': a stream thread did not reach a consistent point within 30 s", store));
      }
    }
  }

 private:
  const detail::compiled_topology& _topo;
  globals_fn _globals;
  threads_fn _threads;
};

}  // namespace

std::shared_ptr<detail::store_source> streams_app::store_source() {
  impl* i = _impl.get();
  return std::make_shared<app_stores>(
      *i->shared.topology,
      [i]() -> const runtime::global_stores* {
        std::lock_guard lock(i->mutex);
        return i->globals.get();
      },
      [i](app_state& state) {
        std::lock_guard lock(i->mutex);
        state = i->current;
        std::vector<runtime::stream_thread*> out;
        for (auto& t : i->threads) {
          if (!t->finished()) out.push_back(t.get());
        }
        return out;
      });
}

int wait_for_shutdown_signal() {
  static int pipe_fds[2] = {-1, -1};
  if (pipe_fds[0] < 0 && ::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw error("wait_for_shutdown_signal: pipe failed");
  struct sigaction sa {};
  sa.sa_handler = [](int sig) {
    unsigned char b = static_cast<unsigned char>(sig);
    (void)!::write(pipe_fds[1], &b, 1);
  };
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  unsigned char sig = 0;
  while (::read(pipe_fds[0], &sig, 1) != 1) {
  }
  log::logger().info("shutdown signal received", log::kv("signal", static_cast<int>(sig)));
  return sig;
}

key_metadata streams_app::metadata_for_key_bytes(const std::string& store, bytes_view key) const {
  return runtime::key_owner(_impl->directory.get(), *_impl->shared.topology,
                            _impl->shared.application_id, _impl->shared.partition_counts, store,
                            key);
}

std::string streams_app::advertised_server() const {
  std::lock_guard lock(_impl->mutex);
  return _impl->http.advertised;
}

std::vector<instance_metadata> streams_app::all_metadata() const {
  return runtime::every_instance(_impl->directory.get(), *_impl->shared.topology,
                                 _impl->shared.application_id);
}

}  // namespace rill
