// The nodes of a foreign-key table join (Kafka Streams' KIP-213 design):
//
//   left table --(subscribe)--> registration topic, keyed by the foreign key --> (receive)
//        |                                        right table --(right updates)--> |
//        |                                                                   (merge)
//   (resolve) <-- response topic, keyed by the left key <---------------------------+
//
// - subscribe: a left row's change sends a subscription to the right row its foreign key
//   names, carrying a hash of the left value; a changed foreign key unsubscribes the old one;
//   a deleted row unsubscribes and asks for its result to be deleted.
// - receive: keeps the subscriptions in a store keyed (foreign key, left key) in the right
//   table's partitioning, and answers each with the right row's current value.
// - right updates: a right row's change is sent to every left row subscribed to it.
// - resolve: in the left table's task, drops a response whose hash is not the left row's
//   current one (stale: the row changed since), joins the rest, and keeps the results in a
//   store so that every change carries the result it replaces.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <rill/detail/aggregate_nodes.hpp>
#include <rill/detail/change.hpp>
#include <rill/detail/join_support.hpp>
#include <rill/detail/node.hpp>
#include <rill/serde.hpp>
#include <rill/state_store.hpp>

namespace rill::detail {

// A 128-bit hash of a left value's bytes (two 64-bit FNV-1a passes with different seeds):
// the same on every instance and every run, as responses cross processes.
using value_hash = std::array<std::uint64_t, 2>;
inline value_hash hash_bytes(bytes_view b) {
  value_hash h{0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
  for (std::byte c : b) {
    h[0] = (h[0] ^ std::to_integer<std::uint64_t>(c)) * 0x100000001b3ULL;
    h[1] = (h[1] ^ (std::to_integer<std::uint64_t>(c) + 0x9eULL)) * 0x100000001b3ULL;
  }
  return h;
}

enum class fk_instruction : std::uint8_t {
  unsubscribe = 0,             // the left row moved to another foreign key
  unsubscribe_and_delete = 1,  // the left row is gone: delete its result
  respond_if_found = 2,        // inner join: answer only with a right row
  respond_always = 3,          // left join, or a moved row: answer, with no right row too
};

template <class K>
struct subscription {
  K key{};
  fk_instruction instruction = fk_instruction::respond_if_found;
  std::optional<value_hash> hash;
};

template <class VO>
struct response {
  std::optional<value_hash> hash;  // none: the left row was deleted
  std::optional<VO> value;         // the right row, if any
};

inline void put_hash(bytes& out, const std::optional<value_hash>& h) {
  out.push_back(std::byte(h ? 1 : 0));
  if (!h) return;
  for (std::uint64_t w : *h) serdes::detail::put_be64(out, static_cast<std::int64_t>(w));
}
inline std::optional<value_hash> get_hash(bytes_view& in, const serde_context& ctx) {
  auto fail = [&] {
    throw serde_error("foreign-key join record on '" + std::string(ctx.topic) + "': too short");
  };
  if (in.empty()) fail();
  const bool has = in[0] != std::byte(0);
  in = in.subspan(1);
  if (!has) return std::nullopt;
  if (in.size() < 16) fail();
  value_hash h{static_cast<std::uint64_t>(serdes::detail::get_be64(in)),
               static_cast<std::uint64_t>(serdes::detail::get_be64(in.subspan(8)))};
  in = in.subspan(16);
  return h;
}

// [instruction][hash: flag, 16 bytes][left key bytes]
template <class K>
struct subscription_serde {
  using value_type = subscription<K>;
  any_serde<K> key;
  void serialize(const subscription<K>& s, bytes& out, const serde_context& ctx) const {
    out.push_back(std::byte(static_cast<std::uint8_t>(s.instruction)));
    put_hash(out, s.hash);
    key.serialize(s.key, out, ctx);
  }
  subscription<K> deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.empty()) throw serde_error("subscription on '" + std::string(ctx.topic) + "': empty");
    subscription<K> s;
    s.instruction = static_cast<fk_instruction>(std::to_integer<std::uint8_t>(in[0]));
    in = in.subspan(1);
    s.hash = get_hash(in, ctx);
    s.key = key.deserialize(in, ctx);
    return s;
  }
};

// [hash: flag, 16 bytes][right value: flag, bytes]
template <class VO>
struct response_serde {
  using value_type = response<VO>;
  any_serde<VO> value;
  void serialize(const response<VO>& r, bytes& out, const serde_context& ctx) const {
    put_hash(out, r.hash);
    out.push_back(std::byte(r.value ? 1 : 0));
    if (r.value) value.serialize(*r.value, out, ctx);
  }
  response<VO> deserialize(bytes_view in, const serde_context& ctx) const {
    response<VO> r;
    r.hash = get_hash(in, ctx);
    if (in.empty()) throw serde_error("response on '" + std::string(ctx.topic) + "': too short");
    const bool has = in[0] != std::byte(0);
    if (has) r.value = value.deserialize(in.subspan(1), ctx);
    return r;
  }
};

// The subscription store's key: [foreign key size, 4 bytes][foreign key][left key], so that a
// prefix scan finds a right row's subscribers.
inline bytes subscription_prefix(bytes_view fk) {
  bytes out;
  const auto n = static_cast<std::uint32_t>(fk.size());
  for (int i = 3; i >= 0; --i) out.push_back(std::byte(static_cast<std::uint8_t>(n >> (8 * i))));
  out.insert(out.end(), fk.begin(), fk.end());
  return out;
}

// The hash of a left value, as its store writes it (subscribe and resolve must agree).
template <class K, class V>
value_hash hash_value(key_value_store<K, V>& store, const V& v, bytes& buf) {
  buf.clear();
  store.value_serde().serialize(v, buf, {store.access().changelog_topic(), false, nullptr});
  return hash_bytes(buf);
}

template <class K, class V, class KO, class Extract>
class fk_subscribe_node final : public input_node<K, change<V>> {
 public:
  fk_subscribe_node(std::string name, std::string left_store, bool left, Extract extract)
      : input_node<K, change<V>>(std::move(name)),
        _left_name(std::move(left_store)),
        _left(left),
        _extract(std::move(extract)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _left_store = &typed_store<key_value_store<K, V>>(t, *this, _left_name);
  }
  void process(record<K, change<V>>&& r) override {
    std::optional<KO> now;
    std::optional<KO> before;
    this->call_user([&] {
      if (r.value.new_value) now.emplace(KO(_extract(std::as_const(*r.value.new_value))));
      if (r.value.old_value) before.emplace(KO(_extract(std::as_const(*r.value.old_value))));
    });
    const bool moved = before && now && !(*before == *now);
    if (before && (!now || moved)) {
      send(std::move(*before), r,
           now ? fk_instruction::unsubscribe : fk_instruction::unsubscribe_and_delete,
           std::nullopt);
    }
    if (now) {
      send(std::move(*now), r,
           _left || moved ? fk_instruction::respond_always : fk_instruction::respond_if_found,
           hash_value(*_left_store, *r.value.new_value, _buf));
    }
  }

 private:
  void send(KO fk, const record<K, change<V>>& r, fk_instruction i, std::optional<value_hash> h) {
    _out.forward(record<KO, subscription<K>>{std::move(fk), subscription<K>{r.key, i, h},
                                             r.timestamp, r.headers});
  }
  std::string _left_name;
  bool _left;
  Extract _extract;
  key_value_store<K, V>* _left_store = nullptr;
  bytes _buf;
  outputs<KO, subscription<K>> _out;
};

// What the right side's two nodes share: the subscription store.
template <class K, class KO>
class fk_subscriptions {
 public:
  void init(task_context& t, const node& owner, const std::string& store) {
    _store = &typed_store<key_value_store<bytes, bytes>>(t, owner, store);
  }
  bytes key_of(const any_serde<KO>& fk_serde, const KO& fk, const any_serde<K>& key_serde,
               const K& key) const {
    bytes fk_bytes;
    fk_serde.serialize(fk, fk_bytes, ctx());
    bytes out = subscription_prefix(fk_bytes);
    key_serde.serialize(key, out, ctx());
    return out;
  }
  key_value_store<bytes, bytes>& store() { return *_store; }
  serde_context ctx() const { return {_store->access().changelog_topic(), true, nullptr}; }

 private:
  key_value_store<bytes, bytes>* _store = nullptr;
};

// Right side: files subscriptions, answers them with the right row's current value.
template <class K, class KO, class VO>
class fk_receive_node final : public input_node<KO, subscription<K>> {
 public:
  fk_receive_node(std::string name, std::string subscriptions, std::string right_store,
                  any_serde<K> key_serde)
      : input_node<KO, subscription<K>>(std::move(name)),
        _subscriptions_name(std::move(subscriptions)),
        _right_name(std::move(right_store)),
        _key_serde(std::move(key_serde)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _subs.init(t, *this, _subscriptions_name);
    _right = &typed_store<key_value_store<KO, VO>>(t, *this, _right_name);
  }
  void process(record<KO, subscription<K>>&& r) override {
    const bytes k = _subs.key_of(_right->key_serde(), r.key, _key_serde, r.value.key);
    const fk_instruction i = r.value.instruction;
    if (i == fk_instruction::unsubscribe || i == fk_instruction::unsubscribe_and_delete) {
      _subs.store().remove(k);
      if (i == fk_instruction::unsubscribe_and_delete) respond(r, std::nullopt, std::nullopt);
      return;
    }
    bytes v;
    put_hash(v, r.value.hash);
    v.push_back(std::byte(static_cast<std::uint8_t>(i)));
    _subs.store().put(k, v);
    std::optional<VO> right = _right->get(r.key);
    if (right || i == fk_instruction::respond_always) respond(r, r.value.hash, std::move(right));
  }

 private:
  void respond(record<KO, subscription<K>>& r, std::optional<value_hash> h,
               std::optional<VO> right) {
    _out.forward(record<K, response<VO>>{std::move(r.value.key), response<VO>{h, std::move(right)},
                                         r.timestamp, std::move(r.headers)});
  }
  std::string _subscriptions_name;
  std::string _right_name;
  any_serde<K> _key_serde;
  fk_subscriptions<K, KO> _subs;
  key_value_store<KO, VO>* _right = nullptr;
  outputs<K, response<VO>> _out;
};

// Right side: a right row's change goes to each left row subscribed to it.
template <class K, class KO, class VO>
class fk_right_update_node final : public input_node<KO, change<VO>> {
 public:
  fk_right_update_node(std::string name, std::string subscriptions, any_serde<K> key_serde,
                       any_serde<KO> fk_serde)
      : input_node<KO, change<VO>>(std::move(name)),
        _subscriptions_name(std::move(subscriptions)),
        _key_serde(std::move(key_serde)),
        _fk_serde(std::move(fk_serde)) {}

  void add_child(node& child) override { _out.add(*this, child); }
  void init(task_context& t) override {
    node::init(t);
    _subs.init(t, *this, _subscriptions_name);
  }
  void process(record<KO, change<VO>>&& r) override {
    bytes fk;
    _fk_serde.serialize(r.key, fk, _subs.ctx());
    const bytes prefix = subscription_prefix(fk);
    for (const auto& e : _subs.store().prefix_scan(prefix)) {
      bytes_view v(e.value);
      const std::optional<value_hash> h = get_hash(v, _subs.ctx());
      const bytes_view key_bytes = bytes_view(e.key).subspan(prefix.size());
      _out.forward(record<K, response<VO>>{_key_serde.deserialize(key_bytes, _subs.ctx()),
                                           response<VO>{h, r.value.new_value}, r.timestamp,
                                           r.headers});
    }
  }

 private:
  std::string _subscriptions_name;
  any_serde<K> _key_serde;
  any_serde<KO> _fk_serde;
  fk_subscriptions<K, KO> _subs;
  outputs<K, response<VO>> _out;
};

// Left side: joins the responses that are still current; the results live in a store.
template <class K, class V, class VO, class Join>
class fk_resolve_node final : public store_node<K, response<VO>, typename Join::result> {
  using VOut = typename Join::result;
  using base = store_node<K, response<VO>, VOut>;

 public:
  fk_resolve_node(std::string name, std::string result_store, std::string left_store, bool left,
                  Join join)
      : base(std::move(name), std::move(result_store)),
        _left_name(std::move(left_store)),
        _left(left),
        _join(std::move(join)) {}

  void init(task_context& t) override {
    base::init(t);
    _left_store = &typed_store<key_value_store<K, V>>(t, *this, _left_name);
  }
  void process(record<K, response<VO>>&& r) override {
    std::optional<V> current = _left_store->get(r.key);
    std::optional<VOut> now;
    if (!r.value.hash) {
      if (current) return;  // deleted, then written again since: a newer response will come
    } else {
      if (!current) return;
      if (hash_value(*_left_store, *current, _buf) != *r.value.hash)
        return;  // stale: the row changed since
      if (r.value.value || _left) {
        const VO* o = r.value.value ? &*r.value.value : nullptr;
        now = this->call_user([&] { return _join(r.key, &*current, o); });
      }
    }
    std::optional<VOut> before = this->read(r.key);
    if (!now && !before) return;
    this->update(std::move(r.key), std::move(now), std::move(before), r.timestamp,
                 std::move(r.headers));
  }

 private:
  std::string _left_name;
  bool _left;
  Join _join;
  key_value_store<K, V>* _left_store = nullptr;
  bytes _buf;
};

}  // namespace rill::detail
