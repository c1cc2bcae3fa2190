// The nodes of joins with tables:
//
// - stream-table: a stream record looks the table's current value up by key and joins it
//   (a left join passes records the table has no value for with an empty right side);
//   table updates alone emit nothing. Output time: the stream record's.
// - table-table: one node per side; an update on one side joins its new and old values with
//   the other side's current value, and forwards the change of the result (new and old), so a
//   downstream re-grouping retracts correctly. Output time: the updating record's.
// - table materialization: keeps a table that has no store (a filtered or mapped table) in
//   one, for the joins that look it up.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/change.hpp>
#include <rill/detail/join_support.hpp>
#include <rill/detail/node.hpp>
#include <rill/state_store.hpp>

namespace rill::detail {

// The record's own key, as a key selector (stream-table joins look the table up by it).
struct own_key {
  template <class K, class V>
  const K& operator()(const K& key, const V&) const noexcept {
    return key;
  }
};

// stream-table and stream-global table: a record looks the table up at
// selector(key, value) (its own key for a table, a computed one for a global table).
template <class K, class V, class KG, class VG, class KeySelector, class Join>
class stream_table_join_node final : public input_node<K, V> {
  using VOut = typename Join::result;

 public:
  stream_table_join_node(std::string name, std::string store, bool left, KeySelector selector,
                         Join join)
      : input_node<K, V>(std::move(name)),
        _store_name(std::move(store)),
        _left(left),
        _selector(std::move(selector)),
        _join(std::move(join)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _table = &typed_store<key_value_store<KG, VG>>(t, *this, _store_name);
  }
  void process(record<K, V>&& r) override {
    std::optional<VG> found;
    if constexpr (std::is_same_v<KeySelector, own_key>) {
      found = _table->get(r.key);
    } else {
      const KG key = this->call_user(
          [&] { return KG(std::invoke(_selector, std::as_const(r.key), std::as_const(r.value))); });
      found = _table->get(key);
    }
    if (!found && !_left) return;
    VOut v = this->call_user([&] { return _join(r.key, &r.value, found ? &*found : nullptr); });
    _out.forward(
        record<K, VOut>{std::move(r.key), std::move(v), r.timestamp, std::move(r.headers)});
  }

 private:
  std::string _store_name;
  bool _left;
  KeySelector _selector;
  Join _join;
  key_value_store<KG, VG>* _table = nullptr;
  outputs<K, VOut> _out;
};

template <class K, class VL, class VR, class Join, bool Left>
class table_join_node final : public input_node<K, change<std::conditional_t<Left, VL, VR>>> {
  using VT = std::conditional_t<Left, VL, VR>;
  using VO = std::conditional_t<Left, VR, VL>;
  using VOut = typename Join::result;

 public:
  table_join_node(std::string name, std::string other_store, join_kind kind, Join join)
      : input_node<K, change<VT>>(std::move(name)),
        _store_name(std::move(other_store)),
        _kind(kind),
        _join(std::move(join)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _other = &typed_store<key_value_store<K, VO>>(t, *this, _store_name);
  }
  void process(record<K, change<VT>>&& r) override {
    const std::optional<VO> other = _other->get(r.key);
    const VO* o = other ? &*other : nullptr;
    change<VOut> c;
    this->call_user([&] {
      c.new_value = result(r.key, r.value.new_value, o);
      c.old_value = result(r.key, r.value.old_value, o);
    });
    if (!c.new_value && !c.old_value) return;
    _out.forward(
        record<K, change<VOut>>{std::move(r.key), std::move(c), r.timestamp, std::move(r.headers)});
  }

 private:
  // The join's row for this side's value (maybe none) and the other side's, if it has one:
  // an outer join's row outlives one side's delete, an inner join's does not.
  std::optional<VOut> result(const K& key, const std::optional<VT>& mine, const VO* o) {
    const VT* m = mine ? &*mine : nullptr;
    const VL* l;
    const VR* rv;
    if constexpr (Left) {
      l = m;
      rv = o;
    } else {
      l = o;
      rv = m;
    }
    const bool row = _kind == join_kind::inner  ? (l != nullptr && rv != nullptr)
                     : _kind == join_kind::left ? l != nullptr
                                                : (l != nullptr || rv != nullptr);
    if (!row) return std::nullopt;
    return _join(key, l, rv);
  }

  std::string _store_name;
  join_kind _kind;
  Join _join;
  key_value_store<K, VO>* _other = nullptr;
  outputs<K, change<VOut>> _out;
};

// Keeps a table's current values in a store; forwards nothing.
template <class K, class V>
class table_materialize_node final : public input_node<K, change<V>> {
 public:
  table_materialize_node(std::string name, std::string store)
      : input_node<K, change<V>>(std::move(name)), _store_name(std::move(store)) {}
  void init(task_context& t) override {
    node::init(t);
    _store = &typed_store<key_value_store<K, V>>(t, *this, _store_name);
  }
  void process(record<K, change<V>>&& r) override {
    if (r.value.new_value)
      _store->put(r.key, *r.value.new_value);
    else
      _store->remove(r.key);
  }

 private:
  std::string _store_name;
  key_value_store<K, V>* _store = nullptr;
};

}  // namespace rill::detail
