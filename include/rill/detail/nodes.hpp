// The typed node templates behind the stateless DSL: sources, sinks, and one generic node
// for filter, map, flat_map and the rest, each a small body lambda. Instantiated in the
// user's translation unit; the task drives them through detail::node.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rill/detail/node.hpp>
#include <rill/errors.hpp>
#include <rill/options.hpp>
#include <rill/serde.hpp>

namespace rill::detail {

// A node whose work is a body: body(record&&, node&) calls node.user(...) around user code
// and node.emit(...) for each output.
template <class KIn, class VIn, class KOut, class VOut, class Body>
class fn_node final : public input_node<KIn, VIn> {
 public:
  fn_node(std::string name, Body body)
      : input_node<KIn, VIn>(std::move(name)), _body(std::move(body)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void process(record<KIn, VIn>&& r) override { _body(std::move(r), *this); }

  template <class F>
  decltype(auto) user(F&& f) const {
    return this->call_user(std::forward<F>(f));
  }
  void emit(record<KOut, VOut>&& r) const { _out.forward(std::move(r)); }

 private:
  Body _body;
  outputs<KOut, VOut> _out;
};

template <class KIn, class VIn, class KOut, class VOut, class Body>
node_factory fn_node_factory(Body body) {
  return [body](const node_args& a) -> std::unique_ptr<node> {
    return std::make_unique<fn_node<KIn, VIn, KOut, VOut, Body>>(a.name, body);
  };
}

// Reads a topic's bytes into typed records: the one place a record is deserialized.
template <class K, class V>
class source_node_impl final : public source_node {
 public:
  source_node_impl(std::string name, any_serde<K> key_serde, any_serde<V> value_serde)
      : source_node(std::move(name)),
        _key_serde(std::move(key_serde)),
        _value_serde(std::move(value_serde)) {}

  void add_child(node& child) override { _out.add(*this, child); }

  void process_raw(raw_record& r) override {
    bool decoded = false;  // what throws after is not the deserializer's: it goes on up
    try {
      serde_context key_ctx{r.topic, true, &r.headers};
      serde_context value_ctx{r.topic, false, &r.headers};
      const bytes_view* key = r.key ? &*r.key : nullptr;
      const bytes_view* value = r.value ? &*r.value : nullptr;
      // Built where it stays (no move of key or value). Headers are copied, not moved, so a
      // dead-letter record can still carry the originals; an empty header list is not even
      // copied (the copy is an out-of-line call).
      record<K, V> typed{_key_serde.decode(key, key_ctx), _value_serde.decode(value, value_ctx),
                         r.timestamp, r.headers.empty() ? rill::headers{} : r.headers};
      decoded = true;
      _out.forward(std::move(typed));
    } catch (const std::exception& e) {
      if (decoded) throw;
      if (ctx().on_deserialization_error(r, e)) return;
      throw;  // the handler returns false only if it did not throw; fail anyway
    }
  }

 private:
  any_serde<K> _key_serde;
  any_serde<V> _value_serde;
  outputs<K, V> _out;
};

// Writes typed records to a topic: the one place a record is serialized. The key and value
// buffers are reused, so a warm sink does not allocate per record.
template <class K, class V>
class sink_node_impl final : public input_node<K, V> {
 public:
  using topic_chooser = std::function<std::string(const K&, const V&, const record_context&)>;

  sink_node_impl(std::string name, std::string topic, topic_chooser chooser, produced<K, V> p)
      : input_node<K, V>(std::move(name)),
        _topic(std::move(topic)),
        _chooser(std::move(chooser)),
        _produced(std::move(p)),
        _as_is(_produced.key_serde.writes_as_is() && _produced.value_serde.writes_as_is()) {}

  void process(record<K, V>&& r) override {
    std::string chosen;
    std::string_view topic = _topic;
    if (_chooser) {
      chosen = this->call_user([&] {
        record_context rc = this->ctx().current_record();
        rc.timestamp = r.timestamp;
        rc.headers = &r.headers;
        return std::string(_chooser(r.key, r.value, rc));
      });
      topic = chosen;
    }
    std::optional<bytes_view> key;
    std::optional<bytes_view> value;
    // Written twice, not through one helper: called from both branches, GCC leaves a helper
    // (or a lambda) out of line, 23 instructions a record on W1.
    if (_as_is) {  // the record's own bytes: no serde code runs
      key = _produced.key_serde.encode_view(r.key, _key_buf, {topic, true, &r.headers});
      value = _produced.value_serde.encode_view(r.value, _value_buf, {topic, false, &r.headers});
    } else {
      this->call_user([&] {
        key = _produced.key_serde.encode_view(r.key, _key_buf, {topic, true, &r.headers});
        value = _produced.value_serde.encode_view(r.value, _value_buf, {topic, false, &r.headers});
      });
    }
    std::int32_t partition = -1;
    if (_produced.partitioner) {
      record_sender& sender = *_sender;
      const std::int32_t count = sender.partition_count(topic);
      std::optional<std::int32_t> p =
          this->call_user([&] { return _produced.partitioner(topic, r.key, r.value, count); });
      if (p) {
        if (*p < 0 || *p >= count) {
          throw user_code_error(this->name(), "partitioner chose partition " + std::to_string(*p) +
                                                  " of topic '" + std::string(topic) +
                                                  "', which has " + std::to_string(count));
        }
        partition = *p;
      }
    }
    _sender->send(topic, partition, key, value, r.headers, r.timestamp);
  }
  void init(task_context& t) override {
    input_node<K, V>::init(t);
    _sender = &t.sender();  // the task's, for its lifetime
  }

 private:
  std::string _topic;
  topic_chooser _chooser;
  produced<K, V> _produced;
  bool _as_is;  // key and value are sent as they are (raw bytes, strings)
  record_sender* _sender = nullptr;
  bytes _key_buf;
  bytes _value_buf;
};

// Routes each record to the first branch whose predicate holds (split()/branch()).
template <class K, class V>
struct split_state {
  struct branch {
    std::string name;
    std::function<bool(const K&, const V&)> predicate;  // empty: the default branch
  };
  std::vector<branch> branches;
};

template <class K, class V>
class split_node final : public input_node<K, V> {
 public:
  split_node(std::string name, std::shared_ptr<const split_state<K, V>> state)
      : input_node<K, V>(std::move(name)), _state(std::move(state)) {
    _targets.resize(_state->branches.size(), nullptr);
  }

  void add_child(node& child) override {
    auto* typed = dynamic_cast<input_node<K, V>*>(&child);
    for (std::size_t i = 0; i < _state->branches.size(); ++i) {
      if (_state->branches[i].name == child.name() && typed != nullptr) {
        _targets[i] = typed;
        return;
      }
    }
    node::add_child(child);
  }

  void process(record<K, V>&& r) override {
    const auto& branches = _state->branches;
    for (std::size_t i = 0; i < branches.size(); ++i) {
      const auto& pred = branches[i].predicate;
      if (!pred || this->call_user([&] { return pred(r.key, r.value); })) {
        _targets[i]->process(std::move(r));
        return;
      }
    }
  }

 private:
  std::shared_ptr<const split_state<K, V>> _state;
  std::vector<input_node<K, V>*> _targets;
};

}  // namespace rill::detail
