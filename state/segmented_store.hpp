// The segmented layer of window and session stores: time-bucketed so that retention is
// cheap. Each key carries a time (a window's start, a session's end) at a position the
// store's key schema fixes; the layer files the key under segment time / segment_ms by
// prefixing that segment's id, and when the largest time it has seen moves past a segment's
// end plus the retention, drops the whole segment with one drop_range (RocksDB DeleteRange),
// never key by key. Reads and range scans see logical keys (no prefix), merged across the
// live segments in key order, and never return an expired record.
//
// It sits directly on the inner store (RocksDB column family or memory), under the
// changelogging and caching layers, so changelog keys are the logical keys (they carry the
// window, and restoration files them into segments again). Single-threaded, as every store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <rill/detail/kv_store.hpp>

namespace rill::state {

struct scan_end;

// Where a store's keys keep their time (8 bytes, big-endian).
enum class time_at {
  end,         // [key][time]: a window store by key ([key][start])
  before_end,  // [key][time][8 bytes]: a session store ([key][end][start])
  start,       // [time][key]: a window store by time ([start][key])
};

struct segmentation {
  time_at where = time_at::end;
  std::int64_t retention_ms = 0;  // a record whose time is <= newest time - retention is gone
  std::int64_t segment_ms = 60000;
};

// Kafka Streams' interval: half the retention, at least a minute.
std::int64_t default_segment_ms(std::int64_t retention_ms);

class segmented_store final : public detail::kv_store {
 public:
  segmented_store(detail::kv_store& inner, segmentation s);

  const std::string& name() const override { return _inner.name(); }
  bool get(bytes_view key, bytes& out) override;
  void put(bytes_view key, bytes_view value) override;
  void remove(bytes_view key) override;
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override;
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override;
  std::uint64_t approximate_count() override { return _inner.approximate_count(); }

  // The key the inner store keeps for a logical key (restoration writes the inner store
  // directly). Also moves the newest time seen, as a put would.
  bytes physical(bytes_view logical);
  // Drops segments that restoration filled past their retention.
  void drop_expired();
  // The time a logical key carries.
  std::int64_t time_of(bytes_view logical) const;
  // Records with a time below this are expired (and never returned).
  std::int64_t live_from() const;

 private:
  std::int64_t segment_of(std::int64_t time) const;
  void recover_newest();
  std::unique_ptr<detail::kv_iterator> scan(std::optional<bytes_view> from, scan_end end);
  void observe(std::int64_t time);

  detail::kv_store& _inner;
  segmentation _s;
  std::int64_t _newest = -1;        // the largest time seen
  std::int64_t _dropped_below = 0;  // segments below this id are gone
  bytes _key_buf;
};

}  // namespace rill::state
