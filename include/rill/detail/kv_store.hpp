// The byte-level store interface the typed store facades call. Implemented in state/:
// RocksDB and in-memory stores, and the changelogging and caching layers over them.
// Keys order as unsigned bytes (so big-endian unsigned numbers sort numerically).
// Single-threaded: a store belongs to one task.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <rill/bytes.hpp>
#include <rill/headers.hpp>

namespace rill::detail {

class kv_iterator {
 public:
  virtual ~kv_iterator() = default;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual bytes_view key() const = 0;
  virtual bytes_view value() const = 0;
};

class kv_store {
 public:
  virtual ~kv_store() = default;
  virtual const std::string& name() const = 0;
  // Copies the value into `out`; false if the key is absent.
  virtual bool get(bytes_view key, bytes& out) = 0;
  virtual void put(bytes_view key, bytes_view value) = 0;
  virtual void remove(bytes_view key) = 0;
  // Entries with from <= key <= to (either bound may be absent), in key order.
  virtual std::unique_ptr<kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) = 0;
  // Entries whose key starts with `prefix`, in key order.
  virtual std::unique_ptr<kv_iterator> prefix_scan(bytes_view prefix) = 0;
  virtual std::uint64_t approximate_count() = 0;
  // Deletes every key in [from, to) at once, locally: not changelogged, not cached. Only the
  // stores a segmented layer sits on (RocksDB, memory) support it; it is how expired window
  // segments go. The others throw std::logic_error.
  virtual void drop_range(bytes_view from, bytes_view to);
};

inline void kv_store::drop_range(bytes_view, bytes_view) {
  throw std::logic_error("rill: store '" + name() + "' cannot drop a key range");
}

// Where the caching layer hands the entries it flushes (old: the value before this flush;
// headers: those of the record that last wrote the entry, so that what goes downstream at
// the flush carries them and its trace context).
struct cache_flush_listener {
  virtual ~cache_flush_listener() = default;
  virtual void on_flush(bytes_view key, const std::optional<bytes_view>& new_value,
                        const std::optional<bytes_view>& old_value, std::int64_t timestamp,
                        const rill::headers& headers) = 0;
};

// What the typed store facades need besides the byte store.
class store_access {
 public:
  virtual ~store_access() = default;
  virtual kv_store& bytes_store() = 0;
  // True when writes are cached and reach the changelog and downstream at flush.
  virtual bool cached() const = 0;
  // Cached stores only: who hears about flushed entries.
  virtual void set_flush_listener(cache_flush_listener* listener) = 0;
  // Writes (value nullopt: deletes) as bytes_store() does; a cached store keeps the headers
  // with the entry and hands them to its flush listener. Without a cache they are not
  // needed: the node forwards them itself.
  virtual void write(bytes_view key, std::optional<bytes_view> value, const rill::headers&) {
    if (value)
      bytes_store().put(key, *value);
    else
      bytes_store().remove(key);
  }
  // The topic the store's bytes are for (its changelog), for serde contexts. The typed
  // stores keep the reference: it names the same string for as long as the access lives.
  virtual const std::string& changelog_topic() const = 0;
  // Where the sequence numbers of a store keeping duplicates start, so that no entry ever
  // takes the key of one the store holds (restored or kept from an earlier run): above every
  // number given out before. A put's changelog record lands at an offset no lower than its
  // number, so a logged store's next changelog offset (as restored or checkpointed) will do.
  virtual std::uint64_t sequence_start() { return 0; }
};

}  // namespace rill::detail
