#include "src/runtime/global_state.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <rill/errors.hpp>

#include "src/runtime/logging.hpp"

namespace rill::runtime {

namespace {

// What the facades of a global store reach: the store itself, uncached, unlogged.
class global_access final : public detail::store_access {
 public:
  global_access(state::global_store& store, std::string topic)
      : _store(store), _topic(std::move(topic)) {}
  detail::kv_store& bytes_store() override { return _store; }
  bool cached() const override { return false; }
  void set_flush_listener(detail::cache_flush_listener*) override {}
  const std::string& changelog_topic() const override { return _topic; }

 private:
  state::global_store& _store;
  std::string _topic;
};

}  // namespace

struct global_stores::entry {
  const detail::global_spec* spec;
  std::unique_ptr<state::global_store> store;
  std::unique_ptr<global_access> access;
};

global_stores::global_stores(const detail::compiled_topology& topology) {
  for (const auto& g : topology.globals) {
    auto e = std::make_unique<entry>();
    e->spec = &g;
    e->store = std::make_unique<state::global_store>(g.store.name);
    e->access = std::make_unique<global_access>(*e->store, g.topic);
    _entries.push_back(std::move(e));
  }
}

global_stores::~global_stores() = default;

std::vector<std::string> global_stores::topics() const {
  std::vector<std::string> out;
  for (const auto& e : _entries) out.push_back(e->spec->topic);
  return out;
}

bool global_stores::reads(std::string_view topic) const {
  return std::any_of(_entries.begin(), _entries.end(),
                     [&](const auto& e) { return e->spec->topic == topic; });
}

void global_stores::apply(std::string_view topic, std::optional<bytes_view> key,
                          std::optional<bytes_view> value) {
  if (!key) return;
  for (const auto& e : _entries) {
    if (e->spec->topic != topic) continue;
    if (value)
      e->store->put(*key, *value);
    else
      e->store->remove(*key);
    _applied.fetch_add(1, std::memory_order_relaxed);
  }
}

std::unique_ptr<state_store> global_stores::facade(std::string_view store) const {
  for (const auto& e : _entries) {
    if (e->spec->store.name == store) return e->spec->store.make_facade(*e->access);
  }
  return nullptr;
}

global_thread::global_thread(kafka::client_factory& clients,
                             std::map<std::string, std::string> props,
                             const std::map<std::string, std::int32_t>& partitions,
                             global_stores& stores, std::string name, log::logger log)
    : _stores(stores), _name(std::move(name)), _log(std::move(log)) {
  props["group.id"] = _name;  // required by librdkafka; no group is joined
  props["client.id"] = _name + "-consumer";
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "false";
  props["auto.offset.reset"] = "earliest";
  _consumer = clients.make_consumer(props);
  std::vector<kafka::partition_offset> from;
  for (const auto& topic : stores.topics()) {
    auto it = partitions.find(topic);
    if (it == partitions.end())
      throw error(fmt::format("global table topic '{}' does not exist; create it first", topic));
    for (std::int32_t p = 0; p < it->second; ++p) {
      _partitions.push_back({topic, p});
      from.push_back({{topic, p}, -1});
    }
  }
  if (kafka::error e = _consumer->assign(from))
    throw error(fmt::format("{}: cannot read the global tables' topics: {}", _name, e.message()));
}

global_thread::~global_thread() {
  stop();
}

void global_thread::apply_batch() {
  for (const auto& r : _batch) _stores.apply(r.raw.topic, r.raw.key, r.raw.value);
  _batch.clear();
}

void global_thread::restore(std::chrono::milliseconds timeout) {
  std::vector<kafka::partition_offset> ends;
  for (const auto& tp : _partitions) ends.push_back({tp, -1});
  if (kafka::error e = _consumer->end_offsets(ends, timeout))
    throw error(fmt::format("{}: cannot read where the global topics end: {}", _name, e.message()));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> behind;
    for (const auto& e : ends) {
      const std::int64_t at = _consumer->position(e.tp);
      if (e.offset > 0 && at < e.offset && !(at >= 0 && _consumer->caught_up(e.tp)))
        behind.push_back(fmt::format("{} (at {} of {})", e.tp.to_string(), at, e.offset));
    }
    if (behind.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw error(fmt::format("{}: the global tables did not catch up with {} within {} ms", _name,
                              fmt::join(behind, ", "), timeout.count()));
    }
    if (kafka::error e = _consumer->poll(std::chrono::milliseconds(100), 10000, _batch))
      _log.warn("poll failed", kv("error", e.message()));
    apply_batch();
  }
  _log.info("global tables restored", kv("records", _stores.applied()));
}

void global_thread::start(std::function<void(std::exception_ptr)> on_failure) {
  _thread = std::thread([this, on_failure = std::move(on_failure)] {
    try {
      while (!_stop.load()) {
        if (kafka::error e = _consumer->poll(std::chrono::milliseconds(100), 10000, _batch))
          _log.warn("poll failed", kv("error", e.message()));
        apply_batch();
      }
    } catch (...) {
      _log.error("the global thread failed");
      if (on_failure) on_failure(std::current_exception());
    }
  });
}

void global_thread::stop() {
  _stop.store(true);
  if (_thread.joinable()) _thread.join();
  if (_consumer) {
    _consumer->close();
    _consumer.reset();
  }
}

}  // namespace rill::runtime
