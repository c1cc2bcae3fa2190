// The nodes of a windowed stream-stream join: one per side, both reading the two sides'
// window stores, feeding one merge node that is the join's output.
//
// A left record at t joins the right records at t' with t - before <= t' <= t + after (and
// a right record at t' the left ones at t' - after <= t <= t' + before). Each side keeps its
// records in a window store that keeps duplicates: every record an entry of its own, put
// without reading (so equal keys and timestamps are all kept). A record's window closes when stream
// time passes its far end plus grace: a record arriving after that is late (dropped, counted, sent
// to late.records.topic when set), and a closed record joins nothing more. Left and outer joins
// keep the records still unmatched in a store of their own (timestamp, side, key) and emit them
// with an empty other side once their window has closed, so no "no match" result is ever
// contradicted by a later match (Kafka Streams >= 3.1).
//
// A result carries the headers of the record that caused it: the arriving record that found
// its match, or, for a record left unmatched, its own (kept with it in the unmatched store).
//
// Stream time is the task's: the largest record timestamp it has seen, this record's too.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rill/detail/join_support.hpp>
#include <rill/detail/node.hpp>
#include <rill/state_store.hpp>
#include <rill/window_store.hpp>

namespace rill::detail {

struct stream_join_spec {
  join_kind kind = join_kind::inner;
  std::int64_t before = 0;  // how far a right record may precede a left one
  std::int64_t after = 0;   // how far a right record may follow a left one
  std::int64_t grace = 0;
  std::string left_store;
  std::string right_store;
  std::string outer_store;  // left and outer joins: unmatched records until their window closes
};

template <class K, class VL, class VR, class Join, bool Left>
class stream_join_node final : public input_node<K, std::conditional_t<Left, VL, VR>> {
  using VT = std::conditional_t<Left, VL, VR>;  // this side's values
  using VO = std::conditional_t<Left, VR, VL>;  // the other side's
  using VOut = typename Join::result;

 public:
  stream_join_node(std::string name, stream_join_spec s, Join join)
      : input_node<K, VT>(std::move(name)), _s(std::move(s)), _join(std::move(join)) {}

  void add_child(node& child) override { _out.add(*this, child); }

  void init(task_context& t) override {
    node::init(t);
    _this = &typed_store<window_store<K, VT>>(t, *this, Left ? _s.left_store : _s.right_store);
    _other = &typed_store<window_store<K, VO>>(t, *this, Left ? _s.right_store : _s.left_store);
    if (!_s.outer_store.empty()) {
      _outer = &typed_store<key_value_store<bytes, bytes>>(t, *this, _s.outer_store);
      _this_list.inner = _this->value_serde();
      _other_list.inner = _other->value_serde();
    }
  }

  void process(record<K, VT>&& r) override {
    task_context& ctx = this->ctx();
    const timestamp_ms now = ctx.stream_time();
    emit_closed(now);
    const timestamp_ms t = r.timestamp;
    const std::int64_t back = Left ? _s.before : _s.after;
    const std::int64_t ahead = Left ? _s.after : _s.before;
    if (t < 0 || t + ahead + _s.grace < now) {
      if (t >= 0) ctx.on_late_record(*this, t - back, t + ahead, now - _s.grace - (t + ahead));
      return;
    }
    _this->put(r.key, r.value, t);

    const std::int64_t other_ahead = Left ? _s.before : _s.after;
    bool matched = false;
    std::vector<timestamp_ms> decided;  // the other side's unmatched records this one matched
    for (const auto& e : _other->fetch(r.key, t - back, t + ahead)) {
      const timestamp_ms ot = e.key.start;
      if (ot + other_ahead + _s.grace < now) continue;  // closed: its result is out already
      matched = true;
      emit(r.key, &r.value, &e.value, std::max(t, ot), r.headers);
      if (outer_side(!Left) && (decided.empty() || decided.back() != ot)) decided.push_back(ot);
    }
    for (timestamp_ms ot : decided) _outer->remove(outer_key(ot, !Left, r.key));
    if (!matched && outer_side(Left))
      keep_unmatched(t, r.key, {std::move(r.value), std::move(r.headers)});
  }

 private:
  bool outer_side(bool left) const {
    return _s.kind == join_kind::outer || (_s.kind == join_kind::left && left);
  }

  void emit(const K& key, const VT* mine, const VO* theirs, timestamp_ms ts, const headers& h) {
    VOut v = this->call_user([&] {
      if constexpr (Left)
        return _join(key, mine, theirs);
      else
        return _join(key, theirs, mine);
    });
    _out.forward(record<K, VOut>{key, std::move(v), ts, h});
  }

  serde_context ctx_of(bool key) const { return {_outer_topic(), key, nullptr}; }
  const std::string& _outer_topic() const { return _outer->access().changelog_topic(); }

  // The unmatched store's key: [timestamp, 8 bytes big-endian][side: 0 left, 1 right][key].
  bytes outer_key(timestamp_ms ts, bool left, const K& key) const {
    bytes k;
    append_be64(k, ts);
    k.push_back(std::byte(left ? 0 : 1));
    _this->key_serde().serialize(key, k, ctx_of(true));
    return k;
  }

  void keep_unmatched(timestamp_ms t, const K& key, held_value<VT> value) {
    const bytes k = outer_key(t, Left, key);
    const auto& list_serde = _this_list;
    std::vector<held_value<VT>> values;
    if (std::optional<bytes> old = _outer->get(k))
      values = list_serde.deserialize(bytes_view(*old), ctx_of(false));
    values.push_back(std::move(value));
    bytes encoded;
    list_serde.serialize(values, encoded, ctx_of(false));
    _outer->put(k, encoded);
  }

  // Emits, oldest first, the unmatched records whose window has closed, with the other side
  // empty, and forgets them.
  void emit_closed(timestamp_ms now) {
    if (_outer == nullptr) return;
    const std::int64_t soonest = std::min(_s.before, _s.after);
    std::vector<bytes> done;
    for (const auto& e : _outer->all()) {
      const bytes_view k(e.key);
      const timestamp_ms ts = read_be64(k.first(8));
      if (ts + soonest + _s.grace >= now) break;  // nothing later has closed either
      const bool left = k[8] == std::byte(0);
      if (ts + (left ? _s.after : _s.before) + _s.grace >= now) continue;
      const bytes_view kb = k.subspan(9);
      const K key = _this->key_serde().deserialize(kb, ctx_of(true));
      if (left == Left) {
        for (const auto& v : _this_list.deserialize(bytes_view(e.value), ctx_of(false)))
          emit(key, &v.value, nullptr, ts, v.headers);
      } else {
        for (const auto& v : _other_list.deserialize(bytes_view(e.value), ctx_of(false)))
          emit(key, nullptr, &v.value, ts, v.headers);
      }
      done.push_back(e.key);
    }
    for (const auto& k : done) _outer->remove(k);
  }

  stream_join_spec _s;
  Join _join;
  window_store<K, VT>* _this = nullptr;
  window_store<K, VO>* _other = nullptr;
  key_value_store<bytes, bytes>* _outer = nullptr;
  value_list_serde<VT> _this_list;  // the unmatched store's values
  value_list_serde<VO> _other_list;
  outputs<K, VOut> _out;
};

}  // namespace rill::detail
