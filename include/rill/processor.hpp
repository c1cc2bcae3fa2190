// The processor API: user code with full control over records, metadata, punctuation and
// (with the state stores) state. Attach with stream.process(...) or process_values(...).
//
// Lifecycle: one processor instance per task, made by the supplier given to process();
// init() once before the first record, process() per record, close() when the task closes.
// All calls for one instance come from one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <rill/detail/node.hpp>
#include <rill/errors.hpp>
#include <rill/record.hpp>
#include <rill/state_store.hpp>

namespace rill {

// The input record's origin (absent inside a punctuation).
struct record_metadata {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// What a processor can reach besides its record; KOut, VOut are what it forwards.
class processor_context_base {
 public:
  processor_context_base(detail::task_context& task, detail::node& self)
      : _task(&task), _self(&self) {}

  const rill::task_id& task_id() const { return _task->id(); }
  std::string_view application_id() const { return _task->application_id(); }
  // Largest timestamp this task has processed (-1 before the first record).
  timestamp_ms current_stream_time() const { return _task->stream_time(); }
  // The wall clock as the task sees it (the test driver's mock clock in tests).
  timestamp_ms current_system_time() const { return _task->wall_clock_time(); }
  std::optional<rill::record_metadata> record_metadata() const {
    const record_context& rc = _task->current_record();
    if (rc.topic.empty()) return std::nullopt;
    return rill::record_metadata{std::string(rc.topic), rc.partition, rc.offset};
  }
  // Calls `callback(now)` every `interval` of stream time or wall-clock time. A punctuation
  // that falls behind fires once and skips the intervals it missed, as in Kafka Streams.
  cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
                       std::function<void(timestamp_ms)> callback) {
    if (interval.count() <= 0) {
      throw streams_error("processor '" + _self->name() + "': punctuation interval must be > 0");
    }
    return _task->schedule(interval, type, std::move(callback), *_self);
  }
  // Asks the runtime to commit as soon as it can.
  void commit() { _task->request_commit(); }

  // A store connected to this processor (process(supplier, named, {"store"})), e.g.
  // get_state_store<rill::key_value_store<std::string, account>>("accounts").
  template <class Store>
  Store& get_state_store(std::string_view name) {
    state_store& s = _task->get_store(name, *_self);
    auto* typed = dynamic_cast<Store*>(&s);
    if (typed == nullptr) {
      throw streams_error("processor '" + _self->name() + "': store '" + std::string(name) +
                          "' is not a " + detail::type_name<Store>());
    }
    return *typed;
  }

 protected:
  detail::task_context* _task;
  detail::node* _self;
};

template <class KOut, class VOut>
class processor_context : public processor_context_base {
 public:
  processor_context(detail::task_context& task, detail::node& self,
                    const detail::outputs<KOut, VOut>& out)
      : processor_context_base(task, self), _out(&out) {}

  // To every downstream node.
  void forward(record<KOut, VOut> r) { _out->forward(std::move(r)); }
  // To the downstream node named `child` only.
  void forward(record<KOut, VOut> r, std::string_view child) {
    if (!_out->forward_to(child, std::move(r))) {
      throw streams_error("processor '" + _self->name() + "' has no child named '" +
                          std::string(child) + "'");
    }
  }

 private:
  const detail::outputs<KOut, VOut>* _out;
};

template <class K, class VOut>
class fixed_key_processor_context : public processor_context_base {
 public:
  fixed_key_processor_context(detail::task_context& task, detail::node& self,
                              const detail::outputs<K, VOut>& out)
      : processor_context_base(task, self), _out(&out) {}

  void forward(fixed_key_record<K, VOut> r) {
    _out->forward(fixed_key_access<K, VOut>::release(std::move(r)));
  }
  void forward(fixed_key_record<K, VOut> r, std::string_view child) {
    if (!_out->forward_to(child, fixed_key_access<K, VOut>::release(std::move(r)))) {
      throw streams_error("processor '" + _self->name() + "' has no child named '" +
                          std::string(child) + "'");
    }
  }

 private:
  const detail::outputs<K, VOut>* _out;
};

// Derive from this for stream.process(...): may change keys, so grouping or joining
// downstream repartitions. Use void for KOut/VOut of a processor that forwards nothing.
template <class KIn, class VIn, class KOut, class VOut>
class processor {
 public:
  using base_type = processor;
  using key_in = KIn;
  using value_in = VIn;
  using key_out = detail::key_or_null<KOut>;
  using value_out = detail::key_or_null<VOut>;
  using context_type = processor_context<key_out, value_out>;

  virtual ~processor() = default;
  virtual void init(context_type& context) { (void)context; }
  virtual void process(record<KIn, VIn> r) = 0;
  virtual void close() {}
};

// Derive from this for stream.process_values(...): keys cannot change, so no repartition.
template <class K, class VIn, class VOut>
class fixed_key_processor {
 public:
  using base_type = fixed_key_processor;
  using key_in = K;
  using value_in = VIn;
  using value_out = detail::key_or_null<VOut>;
  using context_type = fixed_key_processor_context<K, value_out>;

  virtual ~fixed_key_processor() = default;
  virtual void init(context_type& context) { (void)context; }
  virtual void process(fixed_key_record<K, VIn> r) = 0;
  virtual void close() {}
};

namespace detail {

// A processor's output key type: key_out, or the input key for a fixed-key processor.
template <class P>
struct processor_key_out {
  using type = typename P::key_in;
};
template <class P>
requires requires {
  typename P::key_out;
}
struct processor_key_out<P> {
  using type = typename P::key_out;
};

// Hosts a processor (P derives from processor<...>) as a node.
template <class P>
class processor_node final : public input_node<typename P::key_in, typename P::value_in> {
  using KIn = typename P::key_in;
  using VIn = typename P::value_in;

 public:
  processor_node(std::string name, std::unique_ptr<P> p)
      : input_node<KIn, VIn>(std::move(name)), _processor(std::move(p)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _context = std::make_unique<typename P::context_type>(t, *this, _out);
    this->call_user([&] { _processor->init(*_context); });
  }
  void process(record<KIn, VIn>&& r) override {
    this->call_user([&] {
      if constexpr (requires { typename P::key_out; }) {
        _processor->process(std::move(r));
      } else {
        _processor->process(fixed_key_access<KIn, VIn>::make(std::move(r)));
      }
    });
  }
  void close() override {
    this->call_user([&] { _processor->close(); });
  }

 private:
  outputs<typename processor_key_out<P>::type, typename P::value_out> _out;
  std::unique_ptr<P> _processor;
  std::unique_ptr<typename P::context_type> _context;
};

}  // namespace detail
}  // namespace rill
