// W8 and W9, the joins, as both broker modes share them: the inputs, the Rill topologies, the
// hand-written baselines' state (RocksDB per partition, pending writes in a map that reads go
// through first, one WriteBatch per commit), the merge of a join's two inputs by timestamp,
// and the checks of the output against the join results computed from the input.
//
// - W8, stream-table enrichment: `keys` customers (table "customers", keyed by id, values of
//   64 bytes) loaded first (their records are older), then `records` orders (keyed by
//   customer id, values of 32 bytes); 1 % of the orders name a customer that does not exist.
//   Output: each order with a customer, as the order's bytes then the customer's.
// - W9, stream-stream windowed join: `records` left and `records` right records (8-byte
//   values, their numbers) over `keys` keys, joined within 5 minutes either way. A key's left
//   records are 10 minutes apart; each right record lies within ±7.5 minutes of its left
//   namesake, so it has exactly one left partner (and a left record none, one or two).
//   Output: the left number then the right one.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include <rill/rill.hpp>

#include "e2e_common.hpp"

namespace bench::joins {

// Event times start here (the simulated cluster: 0; the embedded broker: this minute, as the
// mock keeps records of 1970 no longer than its retention).
inline std::int64_t base_time = 0;

inline rill::bytes concat(const rill::bytes& a, const rill::bytes& b) {
  rill::bytes out;
  out.reserve(a.size() + b.size());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

inline std::string padded(std::int64_t n, std::size_t size, char fill) {
  std::string s = be64(n);
  s.resize(size, fill);
  return s;
}

// --- W8: stream-table enrichment ------------------------------------------------------------

constexpr std::size_t order_size = 32;
constexpr std::size_t customer_size = 64;

inline std::string customer_key(long c) {
  return "c" + std::to_string(c);
}
// The customer an order names: one in a hundred does not exist.
inline long customer_of(long order, long customers) {
  return order % (customers + std::max(1L, customers / 100));
}
inline std::string order_value(long i) {
  return padded(i, order_size, 'o');
}
inline std::string customer_value(long c) {
  return padded(c, customer_size, 'c');
}
inline std::int64_t customer_time() {
  return base_time;
}
inline std::int64_t order_time(long i) {
  return base_time + 1 + i;
}

inline rill::topology w8_topology(const std::string& orders, const std::string& customers,
                                  const std::string& out) {
  rill::streams_builder b;
  auto table = b.table<std::string, rill::bytes>(customers);
  b.stream<std::string, rill::bytes>(orders)
      .join(table, [](const rill::bytes& o, const rill::bytes& c) { return concat(o, c); })
      .to(out);
  return b.build();
}

// Each order whose customer exists, once, with that customer's value; nothing else.
class w8_check {
 public:
  w8_check(long orders, long customers)
      : _orders(orders), _customers(customers), _seen(static_cast<std::size_t>(orders), false) {}

  void add(const void* key, std::size_t key_len, const void* value, std::size_t len) {
    ++_n;
    if (len != order_size + customer_size) {
      ++_wrong;
      return;
    }
    const auto* v = static_cast<const char*>(value);
    const std::int64_t i = from_be64(v);
    const std::int64_t c = from_be64(v + order_size);
    if (i < 0 || i >= _orders || c < 0 || c >= _customers || customer_of(i, _customers) != c ||
        customer_key(c) != std::string_view(static_cast<const char*>(key), key_len) ||
        order_value(i) + customer_value(c) != std::string_view(v, len)) {
      ++_wrong;
      return;
    }
    if (_seen[static_cast<std::size_t>(i)]) ++_twice;
    _seen[static_cast<std::size_t>(i)] = true;
  }
  std::string verdict() const {
    long want = 0, missing = 0;
    for (long i = 0; i < _orders; ++i) {
      if (customer_of(i, _customers) >= _customers) continue;
      ++want;
      if (!_seen[static_cast<std::size_t>(i)]) ++missing;
    }
    if (_n != want || _wrong != 0 || _twice != 0 || missing != 0)
      return fmt::format("{} joined orders (want {}), {} wrong, {} twice, {} missing", _n, want,
                         _wrong, _twice, missing);
    return "";
  }

 private:
  long _orders, _customers;
  std::vector<bool> _seen;
  long _n = 0, _wrong = 0, _twice = 0;
};

// The W8 baseline's table for one partition: customers in RocksDB (WAL off), those written
// since the last commit in a map that lookups read first.
struct table_state {
  std::unique_ptr<rocksdb::DB> db;
  std::unordered_map<std::string, std::string> pending;

  bool get(const std::string& key, std::string& value) {
    if (auto it = pending.find(key); it != pending.end()) {
      value = it->second;
      return true;
    }
    return db->Get(rocksdb::ReadOptions(), key, &value).ok();
  }
  void write_pending() {
    if (pending.empty()) return;
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : pending) batch.Put(k, v);
    if (auto s = db->Write(wo, &batch); !s.ok()) throw std::runtime_error(s.ToString());
    pending.clear();
  }
};

inline std::vector<std::unique_ptr<table_state>> open_tables(const std::string& root,
                                                             int partitions) {
  std::vector<std::unique_ptr<table_state>> out;
  for (auto& c : open_count_states(root, partitions)) {
    out.push_back(std::make_unique<table_state>());
    out.back()->db = std::move(c->db);
  }
  return out;
}

// --- W9: stream-stream windowed join --------------------------------------------------------

constexpr std::int64_t window_ms = 5 * 60'000;

inline std::string w9_key(long i, long keys) {
  return "k" + std::to_string(i % keys);
}
// Records of one key are 10 minutes apart (twice the window) on each side.
inline std::int64_t spacing(long keys) {
  return std::max<std::int64_t>(1, 2 * window_ms / keys);
}
inline std::int64_t left_time(long i, long keys) {
  return base_time + 2 * window_ms + i * spacing(keys);
}
// Within ±1.5 windows of the left record of the same number.
inline std::int64_t right_time(long m, long keys) {
  const std::uint64_t h = (static_cast<std::uint64_t>(m) + 1) * 0x9e3779b97f4a7c15ull;
  const auto jitter =
      static_cast<std::int64_t>((h >> 20) % static_cast<std::uint64_t>(3 * window_ms + 1));
  return left_time(m, keys) + jitter - 3 * window_ms / 2;
}
// The right records' numbers in time order, as they are produced (a partition's records in
// time order, so that a join without grace drops none as late).
inline std::vector<long> right_order(long records, long keys) {
  std::vector<std::pair<std::int64_t, long>> by_time;
  by_time.reserve(static_cast<std::size_t>(records));
  for (long m = 0; m < records; ++m) by_time.emplace_back(right_time(m, keys), m);
  std::sort(by_time.begin(), by_time.end());
  std::vector<long> out;
  out.reserve(by_time.size());
  for (const auto& [t, m] : by_time) out.push_back(m);
  return out;
}

inline rill::topology w9_topology(const std::string& left, const std::string& right,
                                  const std::string& out) {
  using namespace std::chrono_literals;
  rill::streams_builder b;
  auto r = b.stream<std::string, rill::bytes>(right);
  b.stream<std::string, rill::bytes>(left)
      .join(
          r, [](const rill::bytes& a, const rill::bytes& c) { return concat(a, c); },
          rill::join_window(std::chrono::milliseconds(window_ms)))
      .to(out);
  return b.build();
}

// Every (left, right) pair of one key within the window, once; nothing else.
class w9_check {
 public:
  w9_check(long records, long keys) : _records(records), _keys(keys) {}

  void add(const void* key, std::size_t key_len, const void* value, std::size_t len) {
    if (len != 16) {
      ++_wrong;
      return;
    }
    const std::int64_t i = from_be64(value);
    const std::int64_t m = from_be64(static_cast<const char*>(value) + 8);
    if (i < 0 || i >= _records || m < 0 || m >= _records ||
        w9_key(i, _keys) != std::string_view(static_cast<const char*>(key), key_len)) {
      ++_wrong;
      return;
    }
    _got.push_back(pair(i, m));
  }
  std::string verdict() {
    std::vector<std::uint64_t> want;
    want.reserve(static_cast<std::size_t>(_records) + 16);
    for (long m = 0; m < _records; ++m) {
      const std::int64_t t = right_time(m, _keys);
      for (long n = -2; n <= 2; ++n) {
        const long i = m + n * _keys;
        if (i >= 0 && i < _records && std::abs(left_time(i, _keys) - t) <= window_ms)
          want.push_back(pair(i, m));
      }
    }
    std::sort(want.begin(), want.end());
    std::sort(_got.begin(), _got.end());
    if (_wrong == 0 && _got == want) return "";
    std::vector<std::uint64_t> missing, extra;
    std::set_difference(want.begin(), want.end(), _got.begin(), _got.end(),
                        std::back_inserter(missing));
    std::set_difference(_got.begin(), _got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    return fmt::format("{} joined pairs (want {}), {} wrong, {} missing, {} extra or repeated",
                       _got.size(), want.size(), _wrong, missing.size(), extra.size());
  }

 private:
  static std::uint64_t pair(std::int64_t i, std::int64_t m) {
    return (static_cast<std::uint64_t>(i) << 32) | static_cast<std::uint64_t>(m);
  }
  long _records, _keys;
  long _wrong = 0;
  std::vector<std::uint64_t> _got;
};

// The W9 baseline's buffers for one partition: both sides' records in one RocksDB (WAL off)
// by [segment][side][key length][key][timestamp][sequence], big-endian, so a key's records of
// one side and segment are one range; segments of half the retention, dropped whole
// (DeleteRange) once stream time has passed them by the retention (as Rill's window stores
// drop theirs). The segment comes first so that no seek lands in (and walks through) what
// was dropped. Records since the last commit sit in a sorted map that lookups read too.
struct join_state {
  static constexpr std::int64_t retention_ms = 2 * window_ms;  // before + after, no grace
  static constexpr std::int64_t segment_ms = retention_ms / 2;

  std::unique_ptr<rocksdb::DB> db;
  std::map<std::string, std::string> pending;
  std::unique_ptr<rocksdb::Iterator> it;  // over what was committed; new after each write
  std::uint32_t seq = 0;
  std::int64_t stream_time = -1;
  std::int64_t live_from = 0;  // the oldest segment not yet dropped

  static std::string prefix(char side, std::int64_t segment, const std::string& key) {
    std::string k = be64(segment);
    k.push_back(side);
    k.push_back(static_cast<char>(key.size() >> 8));
    k.push_back(static_cast<char>(key.size() & 0xff));
    k += key;
    return k;
  }
  // Buffers a record; returns its key in the store (for the changelog).
  const std::string& add(char side, const std::string& key, std::int64_t ts, std::string value) {
    stream_time = std::max(stream_time, ts);
    std::string k = prefix(side, ts / segment_ms, key) + be64(ts);
    const std::uint32_t n = seq++;
    for (int s = 24; s >= 0; s -= 8) k.push_back(static_cast<char>((n >> s) & 0xff));
    return pending.insert_or_assign(std::move(k), std::move(value)).first->first;
  }
  // Calls f(value) for the records of `side` and `key` with lo <= timestamp <= hi.
  template <class F>
  void match(char side, const std::string& key, std::int64_t lo, std::int64_t hi, F&& f) {
    lo = std::max<std::int64_t>(lo, 0);
    if (hi < lo) return;
    if (!it) it.reset(db->NewIterator(rocksdb::ReadOptions()));
    for (std::int64_t s = std::max(lo / segment_ms, live_from); s <= hi / segment_ms; ++s) {
      const std::string p = prefix(side, s, key);
      const std::string from = p + be64(lo);
      const std::string to = p + be64(hi + 1);
      for (auto e = pending.lower_bound(from); e != pending.end() && e->first < to; ++e)
        f(std::string_view(e->second));
      const rocksdb::Slice end(to);
      for (it->Seek(from); it->Valid() && it->key().compare(end) < 0; it->Next())
        f(std::string_view(it->value().data(), it->value().size()));
    }
  }
  // At commit: the pending records, then the segments stream time has left behind.
  void write_pending() {
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : pending) batch.Put(k, v);
    const std::int64_t live = std::max<std::int64_t>(0, (stream_time - retention_ms) / segment_ms);
    if (live > live_from) {
      batch.DeleteRange(be64(live_from), be64(live));
      live_from = live;
    }
    if (batch.Count() == 0) return;
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    it.reset();
    if (auto s = db->Write(wo, &batch); !s.ok()) throw std::runtime_error(s.ToString());
    pending.clear();
  }
};

inline std::vector<std::unique_ptr<join_state>> open_join_states(const std::string& root,
                                                                 int partitions) {
  std::vector<std::unique_ptr<join_state>> out;
  for (auto& c : open_count_states(root, partitions)) {
    out.push_back(std::make_unique<join_state>());
    out.back()->db = std::move(c->db);
  }
  return out;
}

// --- the two inputs of a join, merged as a task merges them ---------------------------------

// Per partition, a queue for each input (side 0 and 1). A record is processed once both
// queues of its partition hold one (the older first), or the empty one's partition has
// nothing more on the broker: as a Rill task does with max.task.idle.ms above 0, so records
// are joined in time order. A queue over `limit` records asks for its partition to be paused
// until it drains (as Rill's buffered.records.per.partition). Rec: what the client returns.
template <class Rec>
class pair_merge {
 public:
  pair_merge(int partitions, std::size_t limit)
      : _queues(2 * static_cast<std::size_t>(partitions)),
        _paused(2 * static_cast<std::size_t>(partitions), false),
        _limit(limit) {}

  // Queues a record; true when its partition should now be paused.
  bool add(int side, std::int32_t partition, Rec r) {
    auto i = index(side, partition);
    _queues[i].push_back(std::move(r));
    if (_paused[i] || _queues[i].size() <= _limit) return false;
    _paused[i] = true;
    return true;
  }
  // Processes what is ready: process(side, partition, Rec&&); time(const Rec&) is the
  // record's timestamp; caught_up(side, partition) whether an empty queue's partition has
  // nothing more on the broker. Then resume(side, partition) for paused queues now drained.
  template <class Time, class Process, class CaughtUp, class Resume>
  void drain(Time time, Process process, CaughtUp caught_up, Resume resume) {
    const auto partitions = static_cast<std::int32_t>(_queues.size() / 2);
    for (std::int32_t p = 0; p < partitions; ++p) {
      auto& a = _queues[index(0, p)];
      auto& b = _queues[index(1, p)];
      while (!a.empty() || !b.empty()) {
        if ((a.empty() && !caught_up(0, p)) || (b.empty() && !caught_up(1, p))) break;
        const int side = a.empty() ? 1 : b.empty() ? 0 : time(a.front()) <= time(b.front()) ? 0 : 1;
        auto& q = side == 0 ? a : b;
        Rec r = std::move(q.front());
        q.pop_front();
        process(side, p, std::move(r));
      }
      for (int side : {0, 1}) {
        auto i = index(side, p);
        if (_paused[i] && _queues[i].size() <= _limit / 2) {
          _paused[i] = false;
          resume(side, p);
        }
      }
    }
  }

 private:
  std::size_t index(int side, std::int32_t p) const {
    return 2 * static_cast<std::size_t>(p) + static_cast<std::size_t>(side);
  }
  std::vector<std::deque<Rec>> _queues;
  std::vector<bool> _paused;
  std::size_t _limit;
};

}  // namespace bench::joins
