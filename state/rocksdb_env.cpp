// The RocksDB resources every task database of an app shares: one block cache and one
// write-buffer manager (the memory bound), and the options each column family is opened with.
#include <algorithm>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "state/task_db.hpp"

namespace rill::state {

namespace {

std::shared_ptr<rocksdb::TableFactory> make_table_factory(std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  table.cache_index_and_filter_blocks = true;  // counted in the bound, and evictable
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  return std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table));
}

}  // namespace

rocksdb_env::rocksdb_env(std::size_t memory_bytes, options_setter setter)
    : _bound(memory_bytes), _setter(std::move(setter)) {
  rocksdb::LRUCacheOptions cache_options;
  // A sixteenth of the bound stays free for blocks in use (they cannot be evicted). Memtables
  // are charged in 256 KiB pieces that land in shards by hash; a shard holding more than its
  // share goes over its capacity, so two large shards (not sixteen small ones) keep the
  // whole cache under the bound (16 shards went 0.4% over it in CI).
  cache_options.capacity = memory_bytes - memory_bytes / 16;
  cache_options.num_shard_bits = 1;
  cache_options.strict_capacity_limit = false;
  _cache = rocksdb::NewLRUCache(cache_options);
  // Memtables are charged to the same cache, so blocks and memtables share one bound.
  _write_buffers = std::make_shared<rocksdb::WriteBufferManager>(memory_bytes / 2, _cache);
  // Shared by every column family unless a config setter may change its options in place.
  if (!_setter) _table_factory = make_table_factory(_cache);
}

rocksdb_env::~rocksdb_env() = default;

void rocksdb_env::configure(rocksdb::Options& options, const std::string& store) const {
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.atomic_flush = true;  // a checkpoint and its data reach disk together
  // Closing does not flush memtables: a clean close flushes explicitly, and a crash (or a
  // dirty close) loses exactly what a crash would.
  options.avoid_flush_during_shutdown = true;
  options.write_buffer_manager = _write_buffers;
  // Many tasks with several stores each share the bound: small memtables per column family
  // (1/64 of the bound, between 256 KiB and 8 MiB) keep the sum of active ones low, and the
  // write-buffer manager makes a writing database flush when all memtables pass half the bound.
  options.write_buffer_size = std::clamp<std::size_t>(_bound / 64, 256 << 10, 8 << 20);
  options.max_write_buffer_number = 2;
  options.max_background_jobs = 2;
  options.keep_log_file_num = 2;
  // A rebalance opens and closes many small databases: open them on the calling thread,
  // without the periodic stats tasks that start a timer thread per open.
  options.max_file_opening_threads = 1;
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;

  options.table_factory = _setter ? make_table_factory(_cache) : _table_factory;
  if (_setter) _setter(store, options);
}

std::size_t rocksdb_env::memory_usage() const {
  return _cache->GetUsage();
}

bool rocksdb_env::memtables_over_budget() const {
  return _write_buffers->memory_usage() > _write_buffers->buffer_size();
}

}  // namespace rill::state
