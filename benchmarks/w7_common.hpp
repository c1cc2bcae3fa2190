// W7, a hopping-window count with emit final (5-minute windows every minute, no grace), as
// both broker modes share it: the input (keys k<i % keys>, event time i * 10 ms, so 10^6
// records span about 2.8 hours), the Rill topology, the hand-written baseline's windowing
// state (counts in RocksDB per partition, pending counts in a map, an index of open windows
// by end) and the check of the emitted windows against a count made from the input.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <rill/rill.hpp>

#include "e2e_common.hpp"

namespace bench::w7 {

constexpr std::int64_t size_ms = 5 * 60'000;
constexpr std::int64_t advance_ms = 60'000;

// Event times start at `base_time` (the simulated cluster: 0; the embedded broker: this
// minute, as a broker keeps records of 1970 no longer than its retention).
inline std::int64_t base_time = 0;
inline std::int64_t time_of(long i) {
  return base_time + static_cast<std::int64_t>(i) * 10;
}
inline std::string key_of(long i, long keys) {
  return "k" + std::to_string(i % keys);
}

// The windows a record at t is in, by start.
template <class F>
void windows_of(std::int64_t t, F f) {
  for (std::int64_t s =
           std::max<std::int64_t>(0, t - size_ms + advance_ms) / advance_ms * advance_ms;
       s <= t; s += advance_ms)
    f(s);
}

inline rill::topology topology(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, rill::bytes>(in)
      .group_by_key()
      .windowed_by(rill::hopping_window(std::chrono::milliseconds(size_ms),
                                        std::chrono::milliseconds(advance_ms)))
      .emit_final()
      .count(rill::named("hops"))
      .to_stream()
      .to(out);
  return b.build();
}

// An emitted window: the key's bytes and the start as Kafka Streams' time-windowed format.
inline std::string window_key(const std::string& key, std::int64_t start) {
  return key + be64(start);
}

// The baseline's state for one partition.
struct partition_state {
  std::unique_ptr<rocksdb::DB> db;
  std::unordered_map<std::string, std::int64_t> pending;  // changed since the last commit
  std::map<std::int64_t, std::set<std::string>> open;     // window end -> window keys
  std::int64_t stream_time = -1;

  std::int64_t bump(const std::string& wk) {
    auto it = pending.find(wk);
    std::int64_t n = 0;
    if (it != pending.end()) {
      n = it->second;
    } else {
      std::string v;
      if (db->Get(rocksdb::ReadOptions(), wk, &v).ok() && v.size() == 8) n = from_be64(v.data());
    }
    pending.insert_or_assign(wk, n + 1);
    return n + 1;
  }
  std::int64_t count(const std::string& wk) {
    if (auto it = pending.find(wk); it != pending.end()) return it->second;
    std::string v;
    if (db->Get(rocksdb::ReadOptions(), wk, &v).ok() && v.size() == 8) return from_be64(v.data());
    return 0;
  }
  // One record: its windows counted, then the windows stream time has closed go to `emit`.
  template <class Emit>
  void record(const std::string& key, std::int64_t t, Emit&& emit) {
    stream_time = std::max(stream_time, t);
    for (auto it = open.begin(); it != open.end() && it->first <= stream_time;) {
      for (const auto& wk : it->second) emit(wk, count(wk));
      it = open.erase(it);
    }
    windows_of(t, [&](std::int64_t s) {
      if (s + size_ms <= stream_time) return;  // closed: late
      const std::string wk = window_key(key, s);
      bump(wk);
      open[s + size_ms].insert(wk);
    });
  }
};

inline std::vector<std::unique_ptr<partition_state>> open_states(const std::string& root,
                                                                 int partitions) {
  std::vector<std::unique_ptr<partition_state>> out;
  for (auto& c : open_count_states(root, partitions)) {
    auto st = std::make_unique<partition_state>();
    st->db = std::move(c->db);
    out.push_back(std::move(st));
  }
  return out;
}

// Writes the pending counts (one WriteBatch per partition, WAL off), after the changelog.
inline void write_pending(std::vector<std::unique_ptr<partition_state>>& parts) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  for (auto& st : parts) {
    if (st->pending.empty()) continue;
    rocksdb::WriteBatch batch;
    for (const auto& [k, c] : st->pending) batch.Put(k, be64(c));
    st->db->Write(wo, &batch);
    st->pending.clear();
  }
}

// The emitted windows against a count made from the input: every window that closed in its
// partition (end <= that partition's last event time) emitted once, with its count, and
// nothing else. `partition_of(key)` is where the key's records went.
template <class Partition>
std::string check(const std::vector<std::pair<std::string, std::int64_t>>& emitted, const params& p,
                  Partition partition_of) {
  std::unordered_map<std::string, std::int64_t> want;
  std::vector<std::int64_t> last(static_cast<std::size_t>(p.partitions), -1);
  std::vector<int> part_of_key(static_cast<std::size_t>(p.keys), -1);
  for (long k = 0; k < p.keys; ++k)
    part_of_key[static_cast<std::size_t>(k)] = partition_of(key_of(k, p.keys));
  for (long i = 0; i < p.records; ++i) {
    auto& l = last[static_cast<std::size_t>(part_of_key[static_cast<std::size_t>(i % p.keys)])];
    l = std::max(l, time_of(i));
  }
  for (long i = 0; i < p.records; ++i) {
    const std::int64_t t = time_of(i);
    const std::int64_t st =
        last[static_cast<std::size_t>(part_of_key[static_cast<std::size_t>(i % p.keys)])];
    windows_of(t, [&](std::int64_t s) {
      if (s + size_ms <= st) ++want[window_key(key_of(i, p.keys), s)];
    });
  }
  long wrong = 0, twice = 0;
  std::unordered_map<std::string, std::int64_t> got;
  for (const auto& [wk, n] : emitted) {
    if (!got.emplace(wk, n).second) ++twice;
  }
  for (const auto& [wk, n] : want) {
    auto it = got.find(wk);
    if (it == got.end() || it->second != n) ++wrong;
  }
  if (wrong != 0 || twice != 0 || got.size() != want.size())
    return fmt::format("{} windows emitted (want {}), {} wrong or missing, {} emitted twice",
                       got.size(), want.size(), wrong, twice);
  return "";
}

}  // namespace bench::w7
