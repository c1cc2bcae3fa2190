// The runtime's view of a topology node. The DSL's typed node templates implement it; the
// task (src/runtime) drives it. A task owns one instance of each node of its subtopology
// and calls it only from the task's thread.
//
// Records move down the graph as rvalues: a node moves its record into its only child, and
// copies only where the graph fans out. A record is deserialized once, at its source node,
// and serialized once per sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <rill/bytes.hpp>
#include <rill/detail/raw_record.hpp>
#include <rill/detail/type_name.hpp>
#include <rill/headers.hpp>
#include <rill/record.hpp>
#include <rill/task_id.hpp>

namespace rill {

class state_store;

enum class punctuation_type {
  stream_time,      // fires as stream time (largest record timestamp seen) passes each interval
  wall_clock_time,  // fires as the system clock passes each interval
};

// Cancels a scheduled punctuation. Copyable; cancelling twice is harmless.
class cancellable {
 public:
  cancellable() = default;
  explicit cancellable(std::shared_ptr<bool> flag) : _cancelled(std::move(flag)) {}
  void cancel() const {
    if (_cancelled) *_cancelled = true;
  }

 private:
  std::shared_ptr<bool> _cancelled;
};

namespace detail {

// Where sinks hand their bytes. The runtime's record collector and the test driver implement it.
// Whether two topic names are equal: the senders' per-record check against the topic of the
// send before. Names are short; a loop over them costs less than a call into memcmp.
inline bool same_topic(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

class record_sender {
 public:
  virtual ~record_sender() = default;
  // partition < 0: the sender chooses (murmur2 of the key bytes, Kafka's default partitioner;
  // round robin for null keys). key/value nullopt: Kafka null.
  virtual void send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
                    std::optional<bytes_view> value, const rill::headers& headers,
                    timestamp_ms timestamp) = 0;
  // Partition count of a topic, for custom partitioners. Throws rill::error if unknown.
  virtual std::int32_t partition_count(std::string_view topic) = 0;
};

class node;

// What a task offers its nodes. One per task; every call on the task's thread.
class task_context {
 public:
  virtual ~task_context() = default;
  virtual const task_id& id() const = 0;
  virtual std::string_view application_id() const = 0;
  virtual timestamp_ms stream_time() const = 0;
  virtual timestamp_ms wall_clock_time() const = 0;
  // The input record being processed; topic empty inside a punctuation.
  virtual const record_context& current_record() const = 0;
  virtual cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
                               std::function<void(timestamp_ms)> callback, node& owner) = 0;
  virtual record_sender& sender() = 0;
  // A source could not deserialize r. Returns true to skip it (log and continue, dead letter)
  // or throws rill::streams_error to fail the task, as the configured handler says.
  virtual bool on_deserialization_error(const raw_record& r, const std::exception& e) = 0;
  // Asks for a commit as soon as possible (processor_context::commit).
  virtual void request_commit() = 0;
  // A store connected to `asker`; throws streams_error naming both when there is none.
  virtual state_store& get_store(std::string_view name, const node& asker) = 0;
  // The record being processed arrived after its window [start, end) closed (`lateness`: by
  // how much): it is counted as dropped, logged at debug, and sent to late.records.topic
  // when one is set.
  virtual void on_late_record(const node& n, timestamp_ms window_start, timestamp_ms window_end,
                              timestamp_ms lateness) = 0;
  // window.close.idle.ms: -1, or how long without input before windows close on the wall
  // clock.
  virtual std::int64_t window_close_idle_ms() const = 0;
};

// Thrown out of a node when user code (a lambda, a processor, a serde) throws: carries the
// node's name to the task, which hands it to the processing exception handler.
class user_code_error : public std::runtime_error {
 public:
  user_code_error(std::string node, const std::string& what, std::string type = "std::exception")
      : std::runtime_error(what), _node(std::move(node)), _type(std::move(type)) {}
  const std::string& node() const noexcept { return _node; }
  // The type of the exception user code threw, as the compiler names it (mangled).
  const std::string& type() const noexcept { return _type; }

 private:
  std::string _node;
  std::string _type;
};

// Errors of the runtime itself (a producer that cannot send, a migrated task) derive from
// this so that no node mistakes them for user errors.
class runtime_abort : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void rethrow_as_user_error(const std::string& node_name) {
  try {
    throw;
  } catch (const user_code_error&) {
    throw;  // thrown further down the graph: keep the node that threw
  } catch (const runtime_abort&) {
    throw;
  } catch (const std::exception& e) {
    throw user_code_error(node_name, e.what(), typeid(e).name());
  } catch (...) {
    throw user_code_error(node_name, "unknown exception");
  }
}

class node {
 public:
  explicit node(std::string name) : _name(std::move(name)) {}
  virtual ~node() = default;
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  const std::string& name() const noexcept { return _name; }
  virtual void init(task_context& ctx) { _ctx = &ctx; }
  virtual void close() {}
  // Wires a child; called once per child, in the order the topology lists them.
  virtual void add_child(node& child) {
    throw std::logic_error("rill: node '" + _name + "' has no outputs but got child '" +
                           child.name() + "'");
  }

 protected:
  task_context& ctx() const noexcept { return *_ctx; }

  // Runs user code; an exception leaves as user_code_error naming this node.
  template <class F>
  decltype(auto) call_user(F&& f) const {
    try {
      return std::forward<F>(f)();
    } catch (...) {
      rethrow_as_user_error(_name);
    }
  }

 private:
  std::string _name;
  task_context* _ctx = nullptr;
};

// A node that takes typed records.
template <class K, class V>
class input_node : public node {
 public:
  using node::node;
  virtual void process(record<K, V>&& r) = 0;
};

// A node that takes a partition's raw records and deserializes them.
class source_node : public node {
 public:
  using node::node;
  virtual void process_raw(raw_record& r) = 0;
};

// A node's typed children.
template <class K, class V>
class outputs {
 public:
  void add(node& parent, node& child) {
    auto* typed = dynamic_cast<input_node<K, V>*>(&child);
    if (typed == nullptr) {
      throw std::logic_error("rill: node '" + child.name() + "' cannot take the records of '" +
                             parent.name() + "' (" + type_name<K>() + ", " + type_name<V>() + ")");
    }
    _children.push_back(typed);
  }

  // To every child: copies for all but the last, which gets the record moved.
  void forward(record<K, V>&& r) const {
    const std::size_t n = _children.size();
    if (n == 1) [[likely]] {
      _children[0]->process(std::move(r));
      return;
    }
    if (n == 0) return;
    for (std::size_t i = 0; i + 1 < n; ++i) _children[i]->process(record<K, V>(r));
    _children[n - 1]->process(std::move(r));
  }

  // To the child named `child` only. Returns false if there is no such child.
  bool forward_to(std::string_view child, record<K, V>&& r) const {
    for (auto* c : _children) {
      if (c->name() == child) {
        c->process(std::move(r));
        return true;
      }
    }
    return false;
  }

  const std::vector<input_node<K, V>*>& children() const noexcept { return _children; }

 private:
  std::vector<input_node<K, V>*> _children;
};

}  // namespace detail
}  // namespace rill
