#include "state/task_db.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <rill/errors.hpp>

namespace rill::state {

namespace {

// Where each store's changelog offset is kept: the default column family, which every
// RocksDB database has, so a new task database creates one family per store and no more
// (creating a family rewrites and re-reads the whole OPTIONS file). Databases written before
// kept them in a family of their own, which is read where it exists.
constexpr const char* old_meta_family = "rill-meta";

rocksdb::Slice slice(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
bytes_view view(const rocksdb::Slice& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string_view chars(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void check(const rocksdb::Status& s, std::string_view what) {
  if (!s.ok()) throw error(fmt::format("rocksdb: {}: {}", what, s.ToString()));
}

// Where bulk restoration writes its table files before RocksDB takes them over (a hard link
// when it can): beside the database, on the same file system.
std::string ingest_dir(const std::string& db_path) {
  return db_path + ".ingest";
}

std::string offset_key(const std::string& store) {
  return "offset/" + store;
}

std::string encode_offset(std::int64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
  return out;
}

std::int64_t decode_offset(const std::string& s) {
  std::uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return static_cast<std::int64_t>(v);
}

// The key just past every key that starts with `prefix`, or nullopt if there is none.
std::optional<std::string> prefix_end(bytes_view prefix) {
  std::string end(reinterpret_cast<const char*>(prefix.data()), prefix.size());
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::nullopt;
}

class rocks_iterator final : public detail::kv_iterator {
 public:
  // Hands the RocksDB iterator back for reuse when done (or lets it go).
  using release_fn = std::function<void(std::unique_ptr<rocksdb::Iterator>)>;
  // Iterates [from, to) when `to_exclusive`, else [from, to].
  rocks_iterator(std::unique_ptr<rocksdb::Iterator> it, std::optional<std::string_view> from,
                 std::optional<std::string> to, bool to_exclusive, release_fn release = {})
      : _it(std::move(it)),
        _to(std::move(to)),
        _to_exclusive(to_exclusive),
        _release(std::move(release)) {
    if (from)
      _it->Seek(rocksdb::Slice(from->data(), from->size()));
    else
      _it->SeekToFirst();
  }
  ~rocks_iterator() override {
    if (_release) _release(std::move(_it));
  }
  bool valid() const override {
    if (!_it->Valid()) return false;
    if (!_to) return true;
    int c = _it->key().compare(*_to);
    return _to_exclusive ? c < 0 : c <= 0;
  }
  void next() override { _it->Next(); }
  bytes_view key() const override { return view(_it->key()); }
  bytes_view value() const override { return view(_it->value()); }

 private:
  std::unique_ptr<rocksdb::Iterator> _it;
  std::optional<std::string> _to;
  bool _to_exclusive;
  release_fn _release;
};

// Entries of a store's RocksDB iterator merged with its pending writes (which win, and hide
// what they delete), in key order.
class merged_iterator final : public detail::kv_iterator {
 public:
  using pending_map = std::map<std::string, std::optional<std::string>, std::less<>>;
  merged_iterator(std::unique_ptr<rocks_iterator> db, pending_map::const_iterator from,
                  pending_map::const_iterator to)
      : _db(std::move(db)), _p(from), _end(to) {
    settle();
  }
  bool valid() const override { return _on != side::none; }
  void next() override {
    if (_on == side::pending)
      ++_p;
    else
      _db->next();
    settle();
  }
  bytes_view key() const override { return _on == side::pending ? view(_p->first) : _db->key(); }
  bytes_view value() const override {
    return _on == side::pending ? view(*_p->second) : _db->value();
  }

 private:
  enum class side { none, db, pending };
  // Moves to the smaller of the two sides' keys, skipping deleted and overwritten entries.
  void settle() {
    for (;;) {
      const bool db = _db->valid();
      const bool pending = _p != _end;
      if (!db && !pending) {
        _on = side::none;
        return;
      }
      if (!pending) {
        _on = side::db;
        return;
      }
      int c = -1;
      if (db) {
        c = std::string_view(_p->first).compare(chars(_db->key()));
      }
      if (c > 0) {
        _on = side::db;
        return;
      }
      if (c == 0) _db->next();  // overwritten or deleted by the pending write
      if (_p->second) {
        _on = side::pending;
        return;
      }
      ++_p;  // a pending delete
    }
  }
  std::unique_ptr<rocks_iterator> _db;
  pending_map::const_iterator _p;
  pending_map::const_iterator _end;
  side _on = side::none;
};

}  // namespace

// ---------------------------------------------------------------------------------------
class task_db::cf_store final : public detail::kv_store {
 public:
  using pending_map = merged_iterator::pending_map;

  cf_store(task_db& db, std::string name, rocksdb::ColumnFamilyHandle* cf)
      : _db(db), _name(std::move(name)), _cf(cf) {}

  const std::string& name() const override { return _name; }

  bool get(bytes_view key, bytes& out) override {
    if (auto it = find_pending(chars(key)); it != _pending.end()) {
      _last = it;  // an update reads a key, then writes it
      if (!it->second) return false;
      const auto* b = reinterpret_cast<const std::byte*>(it->second->data());
      out.assign(b, b + it->second->size());
      return true;
    }
    rocksdb::PinnableSlice value;
    rocksdb::Status s = _db._db->Get(rocksdb::ReadOptions(), _cf, slice(key), &value);
    if (s.IsNotFound()) return false;
    check(s, "get");
    out.assign(reinterpret_cast<const std::byte*>(value.data()),
               reinterpret_cast<const std::byte*>(value.data()) + value.size());
    return true;
  }
  void put(bytes_view key, bytes_view value) override {
    auto it = find_pending(chars(key));
    if (it == _pending.end())
      add_pending(chars(key), std::string(chars(value)));
    else
      it->second = chars(value);  // into the string already there, if any: no new one
  }
  void remove(bytes_view key) override {
    auto it = find_pending(chars(key));
    if (it == _pending.end())
      add_pending(chars(key), std::nullopt);
    else
      it->second.reset();
  }

  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override {
    std::optional<std::string_view> f;
    std::optional<std::string> t;
    if (from) f = chars(*from);
    if (to) t = std::string(chars(*to));
    auto first = f ? _pending.lower_bound(*f) : _pending.begin();
    auto last = t ? _pending.upper_bound(*t) : _pending.end();
    if (f && t && *f > *t) last = first;
    auto db = std::make_unique<rocks_iterator>(iterator(), f, std::move(t), false, release());
    if (first == last) return db;  // no pending write in range: the database alone
    return std::make_unique<merged_iterator>(std::move(db), first, last);
  }
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override {
    std::string from(chars(prefix));
    std::optional<std::string> end = prefix_end(prefix);
    auto first = _pending.lower_bound(from);
    auto last = end ? _pending.lower_bound(*end) : _pending.end();
    return std::make_unique<merged_iterator>(
        std::make_unique<rocks_iterator>(iterator(), std::string_view(from), std::move(end), true,
                                         release()),
        first, last);
  }
  std::uint64_t approximate_count() override {
    std::uint64_t n = 0;
    _db._db->GetIntProperty(_cf, "rocksdb.estimate-num-keys", &n);
    return n + static_cast<std::uint64_t>(_pending.size());
  }

  // Adds the pending writes to `batch`, one per key; they stay pending until discarded.
  std::size_t append_pending(rocksdb::WriteBatch& batch) const {
    for (const auto& [key, value] : _pending) {
      if (value)
        check(batch.Put(_cf, key, *value), "put");
      else
        check(batch.Delete(_cf, key), "delete");
    }
    return _pending.size();
  }
  void discard_pending() {
    _index.clear();
    _pending.clear();
    _last = _pending.end();
  }
  // Lets go of idle iterators: they pin the memtables and files they were made over, which
  // a write is about to outdate (and a flush to free).
  void forget_idle() { _idle.clear(); }

  // Expired segments of a window or session store: gone at once, pending writes included.
  // Not part of a commit: the data is past its retention, so a crash that loses the commit
  // loses nothing a restore would keep (it drops restored records past retention too).
  void drop_range(bytes_view from, bytes_view to) override {
    if (chars(from) >= chars(to)) return;
    const auto first = _pending.lower_bound(chars(from));
    const auto last = _pending.lower_bound(chars(to));
    for (auto it = first; it != last; ++it) _index.erase(it->first);
    _pending.erase(first, last);
    _last = _pending.end();
    rocksdb::WriteBatch batch;
    check(batch.DeleteRange(_cf, slice(from), slice(to)), "drop range");
    rocksdb::WriteOptions write;
    write.disableWAL = true;
    forget_idle();
    check(_db._db->Write(write, &batch), "drop range");
    ++_db._generation;
  }

 private:
  // The pending write of `key`, the one touched last first: one comparison instead of a
  // descent of the map for the write that follows a read of the same key.
  pending_map::iterator find_pending(std::string_view key) {
    if (_last != _pending.end() && _last->first == key) return _last;
    auto it = _index.find(key);
    return it == _index.end() ? _pending.end() : it->second;
  }
  void add_pending(std::string_view key, std::optional<std::string> value) {
    _last = _pending.emplace(std::string(key), std::move(value)).first;
    _index.emplace(_last->first, _last);
  }
  // A RocksDB iterator over the database as it is: an idle one made since the last write
  // (making one is a third of a short range read), or a new one.
  std::unique_ptr<rocksdb::Iterator> iterator() {
    if (_idle_generation == _db._generation && !_idle.empty()) {
      auto it = std::move(_idle.back());
      _idle.pop_back();
      return it;
    }
    return std::unique_ptr<rocksdb::Iterator>(_db._db->NewIterator(rocksdb::ReadOptions(), _cf));
  }
  rocks_iterator::release_fn release() {
    return [this, generation = _db._generation](std::unique_ptr<rocksdb::Iterator> it) {
      if (generation != _db._generation) return;  // the database moved on: let it go
      if (_idle_generation != generation) {
        _idle.clear();
        _idle_generation = generation;
      }
      if (_idle.size() < max_idle) _idle.push_back(std::move(it));
    };
  }
  static constexpr std::size_t max_idle = 4;
  task_db& _db;
  std::string _name;
  rocksdb::ColumnFamilyHandle* _cf;
  pending_map _pending;  // the latest write per key since the last commit; nullopt: deleted
  // The same entries by hash, for point reads and writes: one hash and one comparison, not a
  // descent of the ordered map (which range reads and the commit's batch need). Its keys
  // view the map's own (a map's nodes stay where they are).
  std::unordered_map<std::string_view, pending_map::iterator> _index;
  pending_map::iterator _last = _pending.end();           // the entry read or written last
  std::vector<std::unique_ptr<rocksdb::Iterator>> _idle;  // reusable until the next write
  std::uint64_t _idle_generation = 0;
};

task_db::task_db(const rocksdb_env& env, const std::string& path,
                 const std::vector<std::string>& stores, std::uint64_t flush_every)
    : _env(env), _path(path), _flush_every(flush_every) {
  rocksdb::Options options;
  env.configure(options, stores.empty() ? std::string(old_meta_family) : stores.front());
  for (const auto& s : stores) {
    auto o = std::make_unique<rocksdb::Options>();
    env.configure(*o, s);
    _options.emplace(s, std::move(o));
  }
  auto options_of = [&](const std::string& family) -> const rocksdb::Options& {
    auto it = _options.find(family);
    return it == _options.end() ? options : *it->second;
  };
  // Table files of a bulk restoration that a crash left behind.
  std::error_code ignored;
  std::filesystem::remove_all(ingest_dir(path), ignored);
  // Opens the families the database has, then creates the missing ones in one call: RocksDB
  // rewrites and re-reads its OPTIONS file at every open and every creation of families.
  std::vector<std::string> existing;
  const bool fresh = !rocksdb::DB::ListColumnFamilies(options, path, &existing).ok();
  if (fresh) existing = {rocksdb::kDefaultColumnFamilyName};
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  // A store named "default" is the default family itself: its offsets go apart then too.
  const std::string meta_family =
      has(existing, old_meta_family) || has(stores, rocksdb::kDefaultColumnFamilyName)
          ? old_meta_family
          : rocksdb::kDefaultColumnFamilyName;
  std::vector<std::string> wanted{meta_family};
  wanted.insert(wanted.end(), stores.begin(), stores.end());
  // A new database with these families is a copy of the first one this app made (its
  // CURRENT and MANIFEST), and opens as an existing one: creating families would rewrite and
  // re-read RocksDB's OPTIONS file once more.
  std::string families_key;
  for (const auto& name : wanted) families_key.append(name).push_back('\0');
  if (fresh && env.copy_template(families_key, path)) {  // the copy has every family
    for (const auto& name : wanted)
      if (!has(existing, name)) existing.push_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : existing) families.push_back({name, options_of(name)});
  std::vector<rocksdb::ColumnFamilyDescriptor> missing;
  for (const auto& name : wanted) {
    if (!has(existing, name)) missing.push_back({name, options_of(name)});
  }
  // Every handle is owned the moment RocksDB hands it over, so a failure below releases
  // what was opened.
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* db = nullptr;
  check(rocksdb::DB::Open(rocksdb::DBOptions(options), path, families, &opened, &db),
        "open " + path);
  _db.reset(db);
  adopt(families, opened);
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    rocksdb::Status st = _db->CreateColumnFamilies(missing, &created);
    adopt(missing, created);
    check(st, "create column families in " + path);
    if (fresh) env.keep_template(families_key, path);
  }
  _meta = _handles.at(meta_family).get();
  for (const auto& s : stores)
    _stores.emplace(s, std::make_unique<cf_store>(*this, s, _handles.at(s).get()));
}

void task_db::adopt(const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                    const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
  for (std::size_t i = 0; i < handles.size(); ++i)
    _handles.emplace(families[i].name, handle_ptr(handles[i], handle_deleter{_db.get()}));
}

void task_db::handle_deleter::operator()(rocksdb::ColumnFamilyHandle* h) const {
  // Fails only for the handle DefaultColumnFamily() returns, which is never adopted here.
  db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
}

void task_db::db_deleter::operator()(rocksdb::DB* db) const {
  db->Close().PermitUncheckedError();  // a close failure leaves nothing to do but delete
  delete db;
}

task_db::~task_db() {
  _stores.clear();
  _handles.clear();
}

detail::kv_store& task_db::store(const std::string& name) {
  auto it = _stores.find(name);
  if (it == _stores.end()) throw error(fmt::format("rocksdb: no store '{}' in {}", name, _path));
  return *it->second;
}

rocksdb::ColumnFamilyHandle* task_db::handle(const std::string& store) const {
  return _handles.at(store).get();
}

std::optional<detail::next_offset> task_db::checkpoint(const std::string& store) const {
  std::string value;
  rocksdb::Status s = _db->Get(rocksdb::ReadOptions(), _meta, offset_key(store), &value);
  if (s.IsNotFound()) return std::nullopt;
  check(s, "read checkpoint");
  return detail::next_offset{decode_offset(value)};
}

void task_db::commit(const std::map<std::string, detail::next_offset>& offsets) {
  rocksdb::WriteBatch batch;
  std::uint64_t writes = 0;
  for (const auto& [name, store] : _stores) writes += store->append_pending(batch);
  for (const auto& [store, offset] : offsets)
    check(batch.Put(_meta, offset_key(store), encode_offset(offset.value)), "checkpoint");
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  for (auto& [name, store] : _stores) store->forget_idle();
  check(_db->Write(write, &batch), "commit");
  ++_generation;
  for (auto& [name, store] : _stores) store->discard_pending();
  _writes_since_flush += writes;
  // Writes happen only here, so this is where the memory bound is kept: a database that
  // pushes the memtables over budget flushes its own before the task goes on.
  if (_writes_since_flush >= _flush_every || _env.memtables_over_budget()) flush();
}

void task_db::discard_pending() {
  for (auto& [name, store] : _stores) store->discard_pending();
}

void task_db::flush() {
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  for (auto& [name, h] : _handles) all.push_back(h.get());
  rocksdb::FlushOptions options;
  options.wait = true;
  check(_db->Flush(options, all), "flush");
  _writes_since_flush = 0;
}

void task_db::restore(const std::string& store, const restore_batch& batch,
                      detail::next_offset next) {
  rocksdb::WriteBatch wb;
  rocksdb::ColumnFamilyHandle* cf = handle(store);
  for (const auto& [key, value] : batch.records) {
    if (value)
      check(wb.Put(cf, slice(key), slice(*value)), "restore put");
    else
      check(wb.Delete(cf, slice(key)), "restore delete");
  }
  check(wb.Put(_meta, offset_key(store), encode_offset(next.value)), "restore checkpoint");
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  for (auto& [name, s] : _stores) s->forget_idle();
  check(_db->Write(write, &wb), "restore");
  ++_generation;
  _writes_since_flush += batch.records.size();
  // Restoring flushes ten times less often than processing: a crash mid-restore only
  // repeats restoration work, and the first commit after it flushes (the count carries on).
  if (_writes_since_flush >= 10 * _flush_every || _env.memtables_over_budget()) flush();
}

void task_db::ingest(const std::string& store, restore_chunk& chunk, detail::next_offset next) {
  const std::size_t records = chunk.records();
  if (!chunk.empty()) {
    std::filesystem::create_directories(ingest_dir(_path));
    const std::string file = fmt::format("{}/{}.sst", ingest_dir(_path), ++_ingested_files);
    rocksdb::ColumnFamilyHandle* cf = handle(store);
    {
      rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), *_options.at(store), cf,
                                    /*invalidate_page_cache=*/false);
      check(writer.Open(file), "restore: open " + file);
      for (const auto& [key, value] : chunk.sorted()) {
        check(value ? writer.Put(slice(key), slice(*value)) : writer.Delete(slice(key)),
              "restore: write " + file);
      }
      check(writer.Finish(), "restore: finish " + file);
    }
    // Ingestion gives the file a sequence number above every write the store has seen (its
    // memtable is flushed first if their keys overlap), so it overrides what came before.
    rocksdb::IngestExternalFileOptions options;
    options.move_files = true;
    options.write_global_seqno = false;
    for (auto& [name, s] : _stores) s->forget_idle();
    const rocksdb::Status st = _db->IngestExternalFile(cf, {file}, options);
    std::error_code ignored;
    std::filesystem::remove(file, ignored);  // linked into the database, or refused
    check(st, "restore: ingest " + file);
    ++_generation;
    chunk.clear();
  }
  write_checkpoint(store, next);
  _writes_since_flush += records;
  if (_writes_since_flush >= 10 * _flush_every || _env.memtables_over_budget()) flush();
}

void task_db::write_checkpoint(const std::string& store, detail::next_offset next) {
  rocksdb::WriteBatch wb;
  check(wb.Put(_meta, offset_key(store), encode_offset(next.value)), "restore checkpoint");
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  check(_db->Write(write, &wb), "restore checkpoint");
}

void task_db::wipe(const std::string& store) {
  if (auto it = _stores.find(store); it != _stores.end()) it->second->discard_pending();
  rocksdb::ColumnFamilyHandle* cf = handle(store);
  rocksdb::WriteBatch wb;
  std::unique_ptr<rocksdb::Iterator> it(_db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) check(wb.Delete(cf, it->key()), "wipe");
  check(wb.Delete(_meta, offset_key(store)), "wipe checkpoint");
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  for (auto& [name, s] : _stores) s->forget_idle();
  check(_db->Write(write, &wb), "wipe");
  ++_generation;
}

std::uint64_t task_db::latest_sequence() const {
  return _db->GetLatestSequenceNumber();
}

std::uint64_t task_db::memtable_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [name, h] : _handles) {
    std::uint64_t n = 0;
    _db->GetIntProperty(h.get(), "rocksdb.cur-size-all-mem-tables", &n);
    total += n;
  }
  return total;
}

}  // namespace rill::state
