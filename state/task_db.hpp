// RocksDB stores. One database per task, one column family per store; the default family
// holds each store's changelog offset (`rill-meta` in databases written before 2026-12, or
// when a store is named "default"). Writes since the last commit wait in a sorted
// map per store, the latest write per key, that reads and iterators see through; commit()
// writes them together with the offsets in one atomic write, WAL off (the changelog is the
// durability). A key written many times between commits reaches RocksDB once. A checkpoint
// survives a crash once the memtables holding it are flushed: flushes are atomic across
// column families and happen every `flush_every` committed writes and on close.
//
// Single-threaded per task_db; rocksdb_env is shared by every task of an app. RocksDB failures
// are thrown as rill::error (docs/design-choices.md: store failures are exceptions).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <rill/detail/kv_store.hpp>
#include <rill/detail/offsets.hpp>

#include "state/restore_chunk.hpp"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
struct ColumnFamilyDescriptor;
class DB;
struct Options;
class TableFactory;
class WriteBufferManager;
}  // namespace rocksdb

namespace rill::state {

using options_setter = std::function<void(const std::string& store, rocksdb::Options& options)>;

// What bounds RocksDB's memory in one app: one block cache (index and filter blocks
// included) that memtables are charged to through one write-buffer manager.
class rocksdb_env {
 public:
  explicit rocksdb_env(std::size_t memory_bytes, options_setter setter = {});
  ~rocksdb_env();
  // Options for the database of a task holding these stores.
  void configure(rocksdb::Options& options, const std::string& store) const;
  // Bytes RocksDB holds in the shared cache (blocks and charged memtables).
  std::size_t memory_usage() const;
  std::size_t memory_bound() const noexcept { return _bound; }
  // True when the memtables of every store together exceed their half of the bound.
  bool memtables_over_budget() const;
  // New task databases as copies of the first one made with the same column families
  // (`families` names them): its CURRENT and MANIFEST, read once it is made and before it is
  // written to. A copy opens as an existing database, with a new identity. copy_template
  // returns false when there is none yet, or writing the copy failed (it is removed then).
  void keep_template(const std::string& families, const std::string& path) const;
  bool copy_template(const std::string& families, const std::string& path) const;
  std::size_t databases_copied() const;

 private:
  struct file {
    std::string name;
    std::string content;
  };
  mutable std::mutex _templates_mutex;  // task databases open on stream and restore threads
  mutable std::map<std::string, std::vector<file>> _templates;
  mutable std::size_t _copied = 0;
  std::size_t _bound;
  std::shared_ptr<rocksdb::Cache> _cache;
  std::shared_ptr<rocksdb::WriteBufferManager> _write_buffers;
  std::shared_ptr<rocksdb::TableFactory> _table_factory;  // without a setter: one for all
  options_setter _setter;
};

class task_db {
 public:
  task_db(const rocksdb_env& env, const std::string& path, const std::vector<std::string>& stores,
          std::uint64_t flush_every = 10000);
  ~task_db();
  task_db(const task_db&) = delete;
  task_db& operator=(const task_db&) = delete;

  // The store backed by this column family; valid while the task_db lives.
  detail::kv_store& store(const std::string& name);
  // The changelog offset to restore from (the next one not yet applied); nullopt: none kept.
  std::optional<detail::next_offset> checkpoint(const std::string& store) const;

  // Writes the pending batch and the stores' offsets in one atomic write.
  void commit(const std::map<std::string, detail::next_offset>& offsets);
  // Drops writes since the last commit (a dirty close).
  void discard_pending();
  // Flushes memtables to disk so the last checkpoint survives a crash.
  void flush();

  // Restoration writes straight to the database: records, then their offset, in one write.
  // Changelog records to apply, viewed in the consumer's buffers (valid until applied).
  struct restore_batch {
    std::vector<std::pair<bytes_view, std::optional<bytes_view>>> records;  // nullopt: delete
  };
  void restore(const std::string& store, const restore_batch& batch, detail::next_offset next);
  // Bulk restoration: writes the chunk's last write per key as one sorted table file,
  // ingests it (its entries replace older ones of those keys, its deletes remove them), then
  // writes `next` as the store's checkpoint; empties the chunk. The checkpoint never passes
  // what has been ingested, so a crash anywhere repeats restoration from an earlier offset.
  void ingest(const std::string& store, restore_chunk& chunk, detail::next_offset next);
  // Deletes everything in the store (and its checkpoint).
  void wipe(const std::string& store);

  std::uint64_t memtable_bytes() const;
  // RocksDB's sequence number: every write to the database moves it forward.
  std::uint64_t latest_sequence() const;

 private:
  class cf_store;
  rocksdb::ColumnFamilyHandle* handle(const std::string& store) const;
  void write_checkpoint(const std::string& store, detail::next_offset next);
  void adopt(const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
             const std::vector<rocksdb::ColumnFamilyHandle*>& handles);

  // Column-family handles are released through the database that made them, before it
  // closes (members are destroyed in reverse order: stores, handles, then the database).
  struct handle_deleter {
    rocksdb::DB* db;
    void operator()(rocksdb::ColumnFamilyHandle* h) const;
  };
  using handle_ptr = std::unique_ptr<rocksdb::ColumnFamilyHandle, handle_deleter>;
  struct db_deleter {
    void operator()(rocksdb::DB* db) const;  // closes, then deletes
  };

  const rocksdb_env& _env;
  std::string _path;
  // Each store's options, made once when the database opens (the table files that bulk
  // restoration writes need the same ones).
  std::map<std::string, std::unique_ptr<rocksdb::Options>> _options;
  std::uint64_t _ingested_files = 0;
  std::unique_ptr<rocksdb::DB, db_deleter> _db;
  std::map<std::string, handle_ptr> _handles;
  rocksdb::ColumnFamilyHandle* _meta = nullptr;  // in _handles
  std::map<std::string, std::unique_ptr<cf_store>> _stores;
  std::uint64_t _flush_every;
  std::uint64_t _writes_since_flush = 0;
  // Moves on with every write to the database: a RocksDB iterator made at the same
  // generation still sees all there is, so stores reuse theirs until it moves.
  std::uint64_t _generation = 0;
};

}  // namespace rill::state
