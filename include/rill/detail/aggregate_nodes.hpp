// The stateful DSL's nodes: stream aggregation, table source, table re-aggregation. Each
// keeps its result in a key_value_store; with the store's cache on, results go downstream
// when the cache flushes (once per key per commit), else at once.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <rill/detail/change.hpp>
#include <rill/detail/node.hpp>
#include <rill/errors.hpp>
#include <rill/state_store.hpp>

namespace rill::detail {

// The initializer of reduce: the first value of a key is its aggregate.
struct first_value {};

// Base of the nodes that own a store and forward record<K, change<VS>>: finds the store at
// init and, when it is cached, forwards what the cache flushes.
template <class K, class VIn, class VS>
class store_node : public input_node<K, VIn>, private cache_flush_listener {
 public:
  store_node(std::string name, std::string store)
      : input_node<K, VIn>(std::move(name)), _store_name(std::move(store)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _store = dynamic_cast<key_value_store<K, VS>*>(&t.get_store(_store_name, *this));
    if (_store == nullptr)
      throw streams_error("node '" + this->name() + "': store '" + _store_name +
                          "' has another type");
    _cached = _store->access().cached();
    if (_cached) _store->access().set_flush_listener(this);
  }

 protected:
  key_value_store<K, VS>& store() { return *_store; }
  // The stored value of `key`. The next update() writes to this key: read, then update, with
  // no other read of the store between them (the key's bytes are encoded once).
  std::optional<VS> read(const K& key) { return _store->get(key); }
  // Stores the new value (or deletes) and forwards the change now, or at the cache's flush;
  // either way with the headers of this update's record.
  void update(K&& key, std::optional<VS> now, std::optional<VS> before, timestamp_ms ts,
              headers h) {
    if (now)
      _store->put_last_read(*now, h);
    else
      _store->remove_last_read(h);
    if (!_cached && (now || before)) {
      _out.forward(record<K, change<VS>>{
          std::move(key), change<VS>{std::move(now), std::move(before)}, ts, std::move(h)});
    }
  }

 private:
  void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                const std::optional<bytes_view>& before, std::int64_t ts,
                const headers& h) override {
    serde_context kctx{_store->access().changelog_topic(), true, nullptr};
    serde_context vctx{_store->access().changelog_topic(), false, nullptr};
    change<VS> c;
    if (now) c.new_value = _store->value_serde().decode(&*now, vctx);
    if (before) c.old_value = _store->value_serde().decode(&*before, vctx);
    _out.forward(
        record<K, change<VS>>{_store->key_serde().decode(&key, kctx), std::move(c), ts, h});
  }

  std::string _store_name;
  key_value_store<K, VS>* _store = nullptr;
  bool _cached = false;
  outputs<K, change<VS>> _out;
};

// count / reduce / aggregate of a grouped stream: agg = aggregator(key, value, agg or init()).
template <class K, class V, class VA, class Init, class Agg>
class stream_aggregate_node final : public store_node<K, V, VA> {
 public:
  stream_aggregate_node(std::string name, std::string store, Init init, Agg agg)
      : store_node<K, V, VA>(std::move(name), std::move(store)),
        _init(std::move(init)),
        _agg(std::move(agg)) {}

  void process(record<K, V>&& r) override {
    std::optional<VA> before = this->read(r.key);
    VA now = this->call_user([&] {
      if constexpr (std::is_same_v<Init, first_value>) {
        if (!before) return VA(r.value);
        return VA(_agg(std::as_const(r.key), std::as_const(r.value), VA(*before)));
      } else {
        VA start = before ? *before : VA(_init());
        return VA(_agg(std::as_const(r.key), std::as_const(r.value), std::move(start)));
      }
    });
    this->update(std::move(r.key), std::move(now), std::move(before), r.timestamp,
                 std::move(r.headers));
  }

 private:
  Init _init;
  Agg _agg;
};

// A table read from a topic: a null value (nullopt) deletes the key.
template <class K, class V>
class table_source_node final : public store_node<K, std::optional<V>, V> {
 public:
  using store_node<K, std::optional<V>, V>::store_node;
  void process(record<K, std::optional<V>>&& r) override {
    std::optional<V> before = this->read(r.key);
    if (!r.value && !before) return;  // deleting what is not there changes nothing
    this->update(std::move(r.key), std::move(r.value), std::move(before), r.timestamp,
                 std::move(r.headers));
  }
};

// aggregate / reduce / count of a grouped table: retract the old value, add the new one.
template <class K, class V, class VA, class Init, class Add, class Sub>
class table_aggregate_node final : public store_node<K, change<V>, VA> {
 public:
  table_aggregate_node(std::string name, std::string store, Init init, Add add, Sub sub)
      : store_node<K, change<V>, VA>(std::move(name), std::move(store)),
        _init(std::move(init)),
        _add(std::move(add)),
        _sub(std::move(sub)) {}

  void process(record<K, change<V>>&& r) override {
    std::optional<VA> before = this->read(r.key);
    std::optional<VA> now = this->call_user([&]() -> std::optional<VA> {
      std::optional<VA> agg = before;
      if constexpr (std::is_same_v<Init, first_value>) {
        if (!agg)
          return r.value.new_value ? std::optional<VA>(VA(*r.value.new_value)) : std::nullopt;
      } else {
        if (!agg) agg.emplace(_init());
      }
      if (r.value.old_value)
        agg = VA(_sub(std::as_const(r.key), std::as_const(*r.value.old_value), std::move(*agg)));
      if (r.value.new_value)
        agg = VA(_add(std::as_const(r.key), std::as_const(*r.value.new_value), std::move(*agg)));
      return agg;
    });
    if (!now) return;
    this->update(std::move(r.key), std::move(now), std::move(before), r.timestamp,
                 std::move(r.headers));
  }

 private:
  Init _init;
  Add _add;
  Sub _sub;
};

}  // namespace rill::detail
