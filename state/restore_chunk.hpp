// Bulk restoration's buffer: changelog records of one store, copied in changelog (offset)
// order, that task_db::ingest() writes as one sorted table file and ingests. A later record
// for a key replaces an earlier one and a tombstone (no value) deletes: sorted() yields each
// key once, with its last write, in key order (bytewise, RocksDB's default comparator).
//
// Owned by one task's thread; reused after clear() without giving back its memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rill/bytes.hpp>

namespace rill::state {

class restore_chunk {
 public:
  void add(bytes_view key, std::optional<bytes_view> value);
  bool empty() const noexcept { return _entries.empty(); }
  std::size_t records() const noexcept { return _entries.size(); }
  // Bytes held: keys, values and per-record bookkeeping.
  std::size_t bytes() const noexcept { return _data.size() + _entries.size() * sizeof(entry); }
  void clear();

  struct item {
    bytes_view key;
    std::optional<bytes_view> value;  // nullopt: delete
  };
  // The last write per key, in key order. Sorts the chunk in place (add() after it starts a
  // new unsorted run: call it once, before ingesting).
  std::vector<item> sorted();

 private:
  struct entry {
    // The key's first 8 bytes, big-endian, zeros past its end: ordering them as a number
    // orders the keys bytewise, so most comparisons of the sort read no key bytes.
    std::uint64_t prefix;
    std::size_t key_at;
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint32_t order;  // position in the changelog chunk: later wins
    bool deleted;
  };
  bytes_view key_of(const entry& e) const {
    return {reinterpret_cast<const std::byte*>(_data.data()) + e.key_at, e.key_size};
  }
  std::string _data;  // key, then value, of every record
  std::vector<entry> _entries;
};

}  // namespace rill::state
