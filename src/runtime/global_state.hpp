// Global tables at run time: their stores (one per app instance, shared by every stream
// task) and the global thread that fills them. The thread reads every partition of each
// global table's topic outside any consumer group, from the beginning: restore() reads to the
// end the topics have when the app starts, before any stream thread starts; start() then
// keeps the stores up to date until stop(). Records go in as their bytes are (the store's
// serdes are the topic's); a null value deletes, a null key is skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rill/state_store.hpp>

#include "src/kafka/client.hpp"
#include "src/log/log.hpp"
#include "state/global_store.hpp"
#include "topology/compiled.hpp"

namespace rill::runtime {

class global_stores {
 public:
  explicit global_stores(const detail::compiled_topology& topology);
  ~global_stores();
  bool empty() const noexcept { return _entries.empty(); }
  std::vector<std::string> topics() const;
  bool reads(std::string_view topic) const;
  // One record of a global topic.
  void apply(std::string_view topic, std::optional<bytes_view> key,
             std::optional<bytes_view> value);
  // A typed facade of the store for one reader (facades keep buffers: one per task); null
  // if there is no global store of that name.
  std::unique_ptr<state_store> facade(std::string_view store) const;
  std::uint64_t applied() const noexcept { return _applied.load(); }

 private:
  struct entry;
  std::vector<std::unique_ptr<entry>> _entries;
  std::atomic<std::uint64_t> _applied{0};
};

class global_thread {
 public:
  // `props`: consumer properties (bootstrap servers, isolation level, ...);
  // `partitions`: each global topic's partition count.
  global_thread(kafka::client_factory& clients, std::map<std::string, std::string> props,
                const std::map<std::string, std::int32_t>& partitions, global_stores& stores,
                std::string name, log::logger log);
  ~global_thread();
  // Reads every global topic up to the end it has now; throws rill::error naming the topics
  // not caught up when `timeout` runs out.
  void restore(std::chrono::milliseconds timeout);
  // Keeps reading on a thread of its own; `on_failure` hears of an error that stops it.
  void start(std::function<void(std::exception_ptr)> on_failure);
  void stop();

 private:
  void apply_batch();
  std::unique_ptr<kafka::consumer> _consumer;
  std::vector<kafka::topic_partition> _partitions;
  global_stores& _stores;
  std::string _name;
  log::logger _log;
  std::vector<kafka::consumed_record> _batch;
  std::atomic<bool> _stop{false};
  std::thread _thread;
};

}  // namespace rill::runtime
