// The record cache: updates to the same key between commits are merged in memory, so a hot
// key reaches the store, its changelog and downstream once per commit (Kafka Streams'
// caching). One cache per stream thread, bounded in bytes and shared by the thread's cached
// stores; when it is full the least recently used entry is evicted, and flushed first if it
// is dirty. A flush writes dirty entries to the layer below (changelogging, then the store)
// and tells the store's flush listener (the DSL forwards aggregation results from there,
// with the headers of each entry's last write, which the entry keeps until then).
// Range and prefix reads first flush the dirty entries they cover, so they see every write.
// A dirty entry keeps what the layer below held when the entry was first written (the clean
// entry's value, or read then), so that a flush tells the listener of the change against
// that: by the flush a segmented store's retention may hide it, and a session or window the
// listener forwarded, deleted since, would not be deleted downstream.
// Single-threaded: the thread's tasks only.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <rill/detail/kv_store.hpp>
#include <rill/headers.hpp>

namespace rill::state {

class record_cache {
 public:
  class store;

  explicit record_cache(std::size_t max_bytes) : _max(max_bytes) {}
  ~record_cache();
  record_cache(const record_cache&) = delete;
  record_cache& operator=(const record_cache&) = delete;

  // A cached view of `underlying`; `clock` gives the timestamp of each write.
  std::unique_ptr<store> wrap(detail::kv_store& underlying, std::function<std::int64_t()> clock);
  std::size_t size_bytes() const noexcept { return _bytes; }
  std::size_t max_bytes() const noexcept { return _max; }
  std::uint64_t evictions() const noexcept { return _evictions; }
  // Called between two entries of a store's flush (crash tests kill a thread there); empty
  // in production.
  void set_flush_hook(std::function<void()> hook) { _flush_hook = std::move(hook); }

 private:
  struct lru_entry {
    store* owner;
    std::string key;
  };
  using lru_list = std::list<lru_entry>;

  void make_room();

  std::size_t _max;
  std::size_t _bytes = 0;
  std::uint64_t _evictions = 0;
  std::function<void()> _flush_hook;
  lru_list _lru;  // front: least recently used
  friend class store;
};

class record_cache::store final : public detail::kv_store {
 public:
  store(record_cache& cache, detail::kv_store& underlying, std::function<std::int64_t()> clock)
      : _cache(cache), _underlying(underlying), _clock(std::move(clock)) {}
  ~store() override;

  const std::string& name() const override { return _underlying.name(); }
  bool get(bytes_view key, bytes& out) override;
  void put(bytes_view key, bytes_view value) override {
    write(key, std::string(as_chars(value)), nullptr);
  }
  void remove(bytes_view key) override { write(key, std::nullopt, nullptr); }
  // A put (value nullopt: a remove) that keeps `h` with the entry until its flush hands them
  // to the listener (the headers of the record that last updated the key).
  void write(bytes_view key, std::optional<bytes_view> value, const rill::headers& h) {
    write(key, value ? std::optional<std::string>(as_chars(*value)) : std::nullopt, &h);
  }
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override;
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override;
  std::uint64_t approximate_count() override;

  void set_listener(detail::cache_flush_listener* listener) { _listener = listener; }
  // Writes every dirty entry below and tells the listener, oldest write first.
  void flush();
  // Forgets everything without writing (a dirty close).
  void clear();
  std::size_t dirty() const noexcept { return _dirty.size(); }

 private:
  friend class record_cache;
  struct entry {
    std::optional<std::string> value;  // nullopt: absent (a delete, or a cached miss)
    rill::headers headers;             // of the last write, while dirty
    // While dirty: the value below when the entry was first written (nullopt: absent), if
    // below_known. Known whenever a flush needs it: with a listener, or for a delete.
    std::optional<std::string> below;
    bool below_known = false;
    bool dirty = false;
    std::int64_t timestamp = 0;
    std::size_t size = 0;
    record_cache::lru_list::iterator lru;
    std::list<std::string>::iterator dirty_at;
  };
  void write(bytes_view key, std::optional<std::string> value, const rill::headers* h);
  void flush_entry(const std::string& key);
  // Flushes the dirty entries whose keys `covered` accepts (a scan's range), oldest first.
  void flush_if(const std::function<bool(std::string_view)>& covered);
  void evict(const std::string& key);
  void touch(entry& e);
  static std::size_t size_of(const std::string& key, const std::optional<std::string>& value) {
    return key.size() + (value ? value->size() : 0) + 96;  // node overhead, roughly
  }
  static std::size_t size_of(const std::optional<std::string>& below) {
    return below ? below->size() : 0;
  }
  static std::size_t size_of(const rill::headers& h) {
    std::size_t n = 0;
    for (const auto& x : h) n += x.key.size() + (x.value ? x.value->size() : 0) + 72;
    return n;
  }

  record_cache& _cache;
  detail::kv_store& _underlying;
  std::function<std::int64_t()> _clock;
  detail::cache_flush_listener* _listener = nullptr;
  std::unordered_map<std::string, entry> _entries;
  std::list<std::string> _dirty;  // keys, oldest write first
};

}  // namespace rill::state
