// The RocksDB resources every task database of an app shares: one block cache and one
// write-buffer manager (the memory bound), and the options each column family is opened with.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

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

namespace {

bool read_file(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  return !out.fail();
}

}  // namespace

void rocksdb_env::keep_template(const std::string& families, const std::string& path) const {
  {
    std::lock_guard lock(_templates_mutex);
    if (_templates.contains(families)) return;
  }
  const std::filesystem::path dir(path);
  std::vector<file> files(2);
  files[1].name = "CURRENT";  // written last: a copy without it is no database yet
  if (!read_file(dir / files[1].name, files[1].content)) return;
  std::string manifest = files[1].content;
  while (!manifest.empty() && (manifest.back() == '\n' || manifest.back() == '\r'))
    manifest.pop_back();
  if (!manifest.starts_with("MANIFEST-") || manifest.find('/') != std::string::npos) return;
  files[0].name = manifest;
  if (!read_file(dir / manifest, files[0].content) || files[0].content.empty()) return;
  std::lock_guard lock(_templates_mutex);
  _templates.try_emplace(families, std::move(files));
}

bool rocksdb_env::copy_template(const std::string& families, const std::string& path) const {
  std::vector<file> files;
  {
    std::lock_guard lock(_templates_mutex);
    auto it = _templates.find(families);
    if (it == _templates.end()) return false;
    files = it->second;
  }
  const std::filesystem::path dir(path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  bool ok = !ec;
  for (const auto& f : files) ok = ok && write_file(dir / f.name, f.content);
  if (!ok) {
    for (const auto& f : files) std::filesystem::remove(dir / f.name, ec);
    return false;
  }
  std::lock_guard lock(_templates_mutex);
  ++_copied;
  return true;
}

std::size_t rocksdb_env::databases_copied() const {
  std::lock_guard lock(_templates_mutex);
  return _copied;
}

std::size_t rocksdb_env::memory_usage() const {
  return _cache->GetUsage();
}

bool rocksdb_env::memtables_over_budget() const {
  return _write_buffers->memory_usage() > _write_buffers->buffer_size();
}

}  // namespace rill::state
