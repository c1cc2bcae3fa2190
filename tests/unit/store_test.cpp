// Stores against a std::map model: long random sequences of puts, deletes, gets, range and
// prefix scans; RocksDB's pending writes, commit, discard and reopen; the record cache.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <rill/state_store.hpp>

#include "state/logged_store.hpp"
#include "state/memory_store.hpp"
#include "state/record_cache.hpp"
#include "state/restore_chunk.hpp"
#include "state/segmented_store.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"

namespace fs = std::filesystem;
using rill::bytes;
using rill::bytes_view;

namespace {

std::string temp_dir(const std::string& name) {
  auto dir =
      fs::temp_directory_path() / ("rill-store-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string s(bytes_view b) {
  return std::string(rill::as_chars(b));
}

std::vector<std::pair<std::string, std::string>> drain(
    std::unique_ptr<rill::detail::kv_iterator> it) {
  std::vector<std::pair<std::string, std::string>> out;
  for (; it->valid(); it->next()) out.emplace_back(s(it->key()), s(it->value()));
  return out;
}

// Keys from a small alphabet (including 0x00 and 0xff bytes) so ranges and prefixes overlap.
std::string random_key(std::mt19937& rng) {
  static const char alphabet[] = {'a', 'b', 'c', '\0', '\xff', 'z'};
  std::string k;
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < n; ++i) k.push_back(alphabet[rng() % sizeof(alphabet)]);
  return k;
}

// Runs `steps` random operations on `store` and on a model map; checks every read.
void agree_with_model(rill::detail::kv_store& store, std::map<std::string, std::string>& model,
                      std::mt19937& rng, int steps,
                      const std::function<void()>& maybe_commit = {}) {
  bytes out;
  for (int step = 0; step < steps; ++step) {
    const std::string k = random_key(rng);
    switch (rng() % 7) {
      case 0:
      case 1: {
        std::string v = "v" + std::to_string(rng() % 1000);
        store.put(rill::as_bytes(k), rill::as_bytes(v));
        model[k] = v;
        break;
      }
      case 2:
        store.remove(rill::as_bytes(k));
        model.erase(k);
        break;
      case 3: {
        bool found = store.get(rill::as_bytes(k), out);
        ASSERT_EQ(found, model.contains(k)) << "step " << step;
        if (found) {
          ASSERT_EQ(s(out), model[k]);
        }
        break;
      }
      case 4: {
        std::string a = random_key(rng);
        std::string b = random_key(rng);
        std::vector<std::pair<std::string, std::string>> want;
        for (auto it = model.lower_bound(a); it != model.end() && it->first <= b; ++it)
          want.push_back(*it);
        if (a > b) want.clear();
        ASSERT_EQ(drain(store.range(rill::as_bytes(a), rill::as_bytes(b))), want)
            << "range, step " << step;
        break;
      }
      case 5: {
        std::string p = k.substr(0, 1 + rng() % k.size());
        std::vector<std::pair<std::string, std::string>> want;
        for (const auto& kv : model) {
          if (kv.first.compare(0, p.size(), p) == 0) want.push_back(kv);
        }
        ASSERT_EQ(drain(store.prefix_scan(rill::as_bytes(p))), want) << "prefix, step " << step;
        break;
      }
      case 6:
        if (maybe_commit && rng() % 10 == 0) maybe_commit();
        ASSERT_EQ(drain(store.range(std::nullopt, std::nullopt)),
                  (std::vector<std::pair<std::string, std::string>>(model.begin(), model.end())));
        break;
    }
  }
}

}  // namespace

TEST(memory_store, agrees_with_a_map) {
  rill::state::memory_store store("m");
  std::map<std::string, std::string> model;
  std::mt19937 rng(1);
  agree_with_model(store, model, rng, 20000);
  EXPECT_EQ(store.approximate_count(), model.size());
}

TEST(task_db, agrees_with_a_map_through_pending_writes_and_commits) {
  rill::state::rocksdb_env env(64 << 20);
  const std::string dir = temp_dir("model");
  std::map<std::string, std::string> model;
  {
    rill::state::task_db db(env, dir, {"a", "b"});
    std::mt19937 rng(2);
    std::int64_t offset = 0;
    agree_with_model(db.store("a"), model, rng, 20000, [&] {
      db.commit({{"a", rill::detail::next_offset{++offset}}});
    });
    db.commit({{"a", rill::detail::next_offset{1000}}});
    EXPECT_EQ(db.checkpoint("a"), rill::detail::next_offset{1000});
    EXPECT_EQ(db.checkpoint("b"), std::nullopt);
    bytes out;
    EXPECT_FALSE(db.store("b").get(rill::as_bytes("abc"), out)) << "stores do not see each other";
    db.flush();  // as a clean close does (writes skip the WAL; the changelog is the log)
  }
  // Reopened: the committed data and checkpoint are there.
  rill::state::task_db db(env, dir, {"a", "b"});
  EXPECT_EQ(db.checkpoint("a"), rill::detail::next_offset{1000});
  EXPECT_EQ(drain(db.store("a").range(std::nullopt, std::nullopt)),
            (std::vector<std::pair<std::string, std::string>>(model.begin(), model.end())));
  fs::remove_all(dir);
}

TEST(restore_chunk, yields_the_last_write_per_key_in_bytewise_order) {
  // Keys that share 8-byte prefixes, end inside them, hold 0x00 and 0xff bytes: the sort's
  // numeric prefix must order them as RocksDB's bytewise comparator does.
  std::mt19937 rng(7);
  static const char alphabet[] = {'a', '\0', '\xff', 'k'};
  rill::state::restore_chunk chunk;
  std::map<std::string, std::optional<std::string>> model;
  for (int i = 0; i < 20000; ++i) {
    std::string key(rng() % 2 ? "prefix00" : "");
    const int n = static_cast<int>(rng() % 11);
    for (int j = 0; j < n; ++j) key.push_back(alphabet[rng() % sizeof(alphabet)]);
    std::optional<std::string> value;
    if (rng() % 5 != 0) value = std::to_string(i);
    chunk.add(rill::as_bytes(key),
              value ? std::optional<bytes_view>(rill::as_bytes(*value)) : std::nullopt);
    model[key] = value;
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> got;
  for (const auto& item : chunk.sorted())
    got.emplace_back(s(item.key), item.value ? std::optional(s(*item.value)) : std::nullopt);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::optional<std::string>>>(model.begin(),
                                                                                  model.end())));
}

TEST(task_db, reads_the_checkpoints_of_databases_written_with_a_meta_family) {
  // Before 2026-12 a task database kept its checkpoints in a `rill-meta` column family; a
  // task reopening such a directory still finds them, and commits there.
  rill::state::rocksdb_env env(64 << 20);
  const std::string dir = temp_dir("old-meta");
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{
        {rocksdb::kDefaultColumnFamilyName, o}, {"rill-meta", o}, {"s", o}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> old(raw);
    const std::string seven("\0\0\0\0\0\0\0\x07", 8);  // big-endian 7
    ASSERT_TRUE(old->Put(rocksdb::WriteOptions(), handles[1], "offset/s", seven).ok());
    ASSERT_TRUE(old->Put(rocksdb::WriteOptions(), handles[2], "k", "v").ok());
    for (auto* h : handles) ASSERT_TRUE(old->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(old->Close().ok());
  }
  {
    rill::state::task_db db(env, dir, {"s"});
    EXPECT_EQ(db.checkpoint("s"), rill::detail::next_offset{7});
    bytes out;
    ASSERT_TRUE(db.store("s").get(rill::as_bytes("k"), out));
    EXPECT_EQ(s(out), "v");
    db.commit({{"s", rill::detail::next_offset{9}}});
    db.flush();
  }
  rill::state::task_db db(env, dir, {"s"});
  EXPECT_EQ(db.checkpoint("s"), rill::detail::next_offset{9});
  fs::remove_all(dir);
}

TEST(task_db, a_store_named_default_keeps_its_keys_apart_from_the_checkpoints) {
  rill::state::rocksdb_env env(64 << 20);
  const std::string dir = temp_dir("default-store");
  {
    rill::state::task_db db(env, dir, {"default"});
    db.store("default").put(rill::as_bytes("offset/default"), rill::as_bytes("mine"));
    db.commit({{"default", rill::detail::next_offset{3}}});
    db.flush();
  }
  rill::state::task_db db(env, dir, {"default"});
  EXPECT_EQ(db.checkpoint("default"), rill::detail::next_offset{3});
  EXPECT_EQ(drain(db.store("default").range(std::nullopt, std::nullopt)),
            (std::vector<std::pair<std::string, std::string>>{{"offset/default", "mine"}}));
  fs::remove_all(dir);
}

TEST(task_db, new_databases_are_copies_of_the_first_and_each_its_own) {
  // An app's second and later new databases with the same stores are copies of the first
  // one, taken as it was made (docs/design-choices.md): each still a database of its own.
  rill::state::rocksdb_env env(64 << 20);
  const std::string root = temp_dir("template");
  auto path = [&](int i) { return root + "/" + std::to_string(i); };
  using rill::detail::next_offset;
  {
    rill::state::task_db first(env, path(0), {"a", "b"});
    first.store("a").put(rill::as_bytes("k"), rill::as_bytes("first"));
    first.commit({{"a", next_offset{1}}});
    first.flush();
    rill::state::task_db other_stores(env, path(9), {"a"});  // other families: made, not copied
    EXPECT_EQ(env.databases_copied(), 0u);
    for (int i = 1; i <= 2; ++i) {
      rill::state::task_db copy(env, path(i), {"a", "b"});
      EXPECT_EQ(env.databases_copied(), static_cast<std::size_t>(i));
      EXPECT_FALSE(copy.checkpoint("a")) << "the first's later writes are not in a copy";
      bytes out;
      EXPECT_FALSE(copy.store("a").get(rill::as_bytes("k"), out));
      copy.store("b").put(rill::as_bytes("k"), rill::as_bytes(std::to_string(i)));
      copy.commit({{"b", next_offset{10 + i}}});
      copy.flush();
    }
  }
  std::set<std::string> identities;
  for (int i = 0; i <= 2; ++i) {
    rill::state::task_db db(env, path(i), {"a", "b"});
    bytes out;
    if (i == 0) {
      EXPECT_EQ(db.checkpoint("a"), next_offset{1});
      ASSERT_TRUE(db.store("a").get(rill::as_bytes("k"), out));
      EXPECT_EQ(s(out), "first");
      EXPECT_FALSE(db.store("b").get(rill::as_bytes("k"), out));
    } else {
      EXPECT_EQ(db.checkpoint("b"), next_offset{10 + i});
      ASSERT_TRUE(db.store("b").get(rill::as_bytes("k"), out)) << "database " << i;
      EXPECT_EQ(s(out), std::to_string(i));
      EXPECT_FALSE(db.store("a").get(rill::as_bytes("k"), out));
    }
    std::ifstream id(path(i) + "/IDENTITY");
    std::string identity((std::istreambuf_iterator<char>(id)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(identity.empty()) << "database " << i << " has no identity";
    identities.insert(identity);
  }
  EXPECT_EQ(identities.size(), 3u) << "every copy has an identity of its own";
  fs::remove_all(root);
}

TEST(task_db, discard_drops_writes_since_the_last_commit) {
  rill::state::rocksdb_env env(64 << 20);
  const std::string dir = temp_dir("discard");
  rill::state::task_db db(env, dir, {"s"});
  auto& store = db.store("s");
  store.put(rill::as_bytes("kept"), rill::as_bytes("1"));
  db.commit({{"s", rill::detail::next_offset{5}}});
  store.put(rill::as_bytes("lost"), rill::as_bytes("2"));
  store.remove(rill::as_bytes("kept"));
  bytes out;
  EXPECT_TRUE(store.get(rill::as_bytes("lost"), out)) << "pending writes are readable";
  EXPECT_FALSE(store.get(rill::as_bytes("kept"), out)) << "pending deletes hide committed data";
  db.discard_pending();
  EXPECT_FALSE(store.get(rill::as_bytes("lost"), out));
  EXPECT_TRUE(store.get(rill::as_bytes("kept"), out));
  EXPECT_EQ(db.checkpoint("s"), rill::detail::next_offset{5});
  fs::remove_all(dir);
}

TEST(task_db, restore_writes_records_and_offset_together) {
  rill::state::rocksdb_env env(64 << 20);
  const std::string dir = temp_dir("restore");
  rill::state::task_db db(env, dir, {"s"});
  const rill::bytes a = rill::to_bytes("a"), b = rill::to_bytes("b");
  const rill::bytes one = rill::to_bytes("1"), two = rill::to_bytes("2");
  rill::state::task_db::restore_batch batch;  // views, as the restorer's are
  batch.records.push_back({a, one});
  batch.records.push_back({b, two});
  batch.records.push_back({a, std::nullopt});
  db.restore("s", batch, rill::detail::next_offset{42});
  EXPECT_EQ(db.checkpoint("s"), rill::detail::next_offset{42});
  EXPECT_EQ(drain(db.store("s").range(std::nullopt, std::nullopt)),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  db.wipe("s");
  EXPECT_EQ(db.checkpoint("s"), std::nullopt);
  EXPECT_TRUE(drain(db.store("s").range(std::nullopt, std::nullopt)).empty());
  fs::remove_all(dir);
}

namespace {
struct recording_listener : rill::detail::cache_flush_listener {
  std::vector<std::string> flushed;
  std::vector<std::string> traces;  // the traceparent header flushed with each entry
  void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                const std::optional<bytes_view>& old, std::int64_t ts,
                const rill::headers& h) override {
    flushed.push_back(s(key) + ":" + (old ? s(*old) : "-") + "->" + (now ? s(*now) : "-") + "@" +
                      std::to_string(ts));
    traces.emplace_back(h.get("traceparent").value_or("-"));
  }
};
struct counting_writer : rill::state::changelog_writer {
  int writes = 0;
  void write(const std::string&, std::int32_t, bytes_view, std::optional<bytes_view>) override {
    ++writes;
  }
};
}  // namespace

TEST(record_cache, merges_updates_to_a_key_until_flush) {
  rill::state::memory_store inner("s");
  counting_writer changelog;
  rill::state::logged_store logged(inner, "app-s-changelog", 0, changelog);
  rill::state::record_cache cache(1 << 20);
  std::int64_t now = 0;
  auto cached = cache.wrap(logged, [&] { return now; });
  recording_listener listener;
  cached->set_listener(&listener);
  inner.put(rill::as_bytes("k"), rill::as_bytes("old"));
  for (int i = 1; i <= 100; ++i) {
    now = i;
    cached->put(rill::as_bytes("k"), rill::as_bytes(std::to_string(i)));
  }
  bytes out;
  ASSERT_TRUE(cached->get(rill::as_bytes("k"), out));
  EXPECT_EQ(s(out), "100");
  EXPECT_EQ(changelog.writes, 0) << "nothing reaches the changelog before a flush";
  cached->put(rill::as_bytes("gone"), rill::as_bytes("x"));
  cached->remove(rill::as_bytes("gone"));
  cached->flush();
  EXPECT_EQ(changelog.writes, 1)
      << "100 updates to one key, one changelog record; put+delete of a new key, none";
  EXPECT_EQ(listener.flushed, (std::vector<std::string>{"k:old->100@100"}));
  ASSERT_TRUE(inner.get(rill::as_bytes("k"), out));
  EXPECT_EQ(s(out), "100");
}

TEST(record_cache, evicts_least_recently_used_entries_flushing_dirty_ones) {
  rill::state::memory_store inner("s");
  rill::state::record_cache cache(2000);  // room for roughly a dozen small entries
  auto cached = cache.wrap(inner, [] { return std::int64_t{0}; });
  recording_listener listener;
  cached->set_listener(&listener);
  for (int i = 0; i < 100; ++i)
    cached->put(rill::as_bytes("key" + std::to_string(i)), rill::as_bytes("v"));
  EXPECT_LE(cache.size_bytes(), cache.max_bytes());
  EXPECT_GT(cache.evictions(), 0u);
  EXPECT_EQ(listener.flushed.front(), "key0:-->v@0") << "the oldest went first";
  cached->flush();
  EXPECT_EQ(listener.flushed.size(), 100u) << "every key reached the store exactly once";
  EXPECT_EQ(inner.approximate_count(), 100u);
}

TEST(record_cache, a_flush_hands_over_the_headers_of_each_keys_last_write) {
  rill::state::memory_store inner("s");
  rill::state::record_cache cache(1 << 20);
  auto cached = cache.wrap(inner, {});
  recording_listener listener;
  cached->set_listener(&listener);
  const std::size_t empty = cache.size_bytes();
  auto with = [](const char* trace) { return rill::headers{{"traceparent", trace}}; };
  cached->write(rill::as_bytes("a"), rill::as_bytes("1"), with("t1"));
  cached->write(rill::as_bytes("a"), rill::as_bytes("2"), with("t2"));
  cached->write(rill::as_bytes("b"), rill::as_bytes("1"), with("t3"));
  cached->put(rill::as_bytes("b"), rill::as_bytes("2"));  // a plain put keeps no headers
  inner.put(rill::as_bytes("c"), rill::as_bytes("old"));
  cached->write(rill::as_bytes("c"), std::nullopt, with("t4"));
  EXPECT_GT(cache.size_bytes(), empty);
  cached->flush();
  EXPECT_EQ(listener.flushed, (std::vector<std::string>{"a:-->2@0", "b:-->2@0", "c:old->-@0"}));
  EXPECT_EQ(listener.traces, (std::vector<std::string>{"t2", "-", "t4"}));
  bytes out;
  EXPECT_FALSE(inner.get(rill::as_bytes("c"), out)) << "a write without a value deletes";
  cached->flush();
  EXPECT_EQ(listener.flushed.size(), 3u) << "clean entries are not flushed again";
}

TEST(record_cache, range_reads_see_cached_writes) {
  rill::state::memory_store inner("s");
  rill::state::record_cache cache(1 << 20);
  auto cached = cache.wrap(inner, {});
  cached->put(rill::as_bytes("b"), rill::as_bytes("2"));
  inner.put(rill::as_bytes("a"), rill::as_bytes("1"));
  cached->remove(rill::as_bytes("a"));
  EXPECT_EQ(drain(cached->range(std::nullopt, std::nullopt)),
            (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
}

// A delete is flushed against what the layer below held when it was written: by the flush a
// segmented store's retention may hide it (a session the listener forwarded, merged away
// since, is still deleted downstream).
TEST(record_cache, a_delete_reaches_the_listener_after_the_store_below_expired_the_key) {
  rill::state::memory_store inner("s");
  rill::state::segmented_store seg(inner, {rill::state::time_at::end, 100, 1000});
  rill::state::record_cache cache(1 << 20);
  auto cached = cache.wrap(seg, {});
  // Keys "<name>" then the time, 8 bytes big-endian; the listener hears "<name>@<time>".
  auto at = [](const char* name, std::uint8_t t) {
    return std::string(name) + std::string(7, '\0') + char(t);
  };
  struct : rill::detail::cache_flush_listener {
    std::vector<std::string> heard;
    void on_flush(bytes_view key, const std::optional<bytes_view>& now,
                  const std::optional<bytes_view>& old, std::int64_t,
                  const rill::headers&) override {
      heard.push_back(s(key.first(key.size() - 8)) + "@" +
                      std::to_string(static_cast<std::uint8_t>(key.back())) + ":" +
                      (old ? s(*old) : "-") + "->" + (now ? s(*now) : "-"));
    }
  } listener;
  cached->set_listener(&listener);
  cached->put(rill::as_bytes(at("x", 10)), rill::as_bytes("1"));
  cached->flush();  // x@10 is forwarded, and stays cached, clean
  seg.put(rill::as_bytes(at("y", 20)), rill::as_bytes("2"));  // y@20 only below (a restart)
  cached->remove(rill::as_bytes(at("x", 10)));
  cached->remove(rill::as_bytes(at("y", 20)));
  cached->put(rill::as_bytes(at("z", 200)), rill::as_bytes("3"));
  cached->range(rill::as_bytes(at("z", 0)), rill::as_bytes(at("z", 255)));  // flushes z@200
  bytes out;
  ASSERT_FALSE(seg.get(rill::as_bytes(at("y", 20)), out)) << "retention 100 hides y@20 now";
  cached->flush();
  EXPECT_EQ(listener.heard,
            (std::vector<std::string>{"x@10:-->1", "z@200:-->3", "x@10:1->-", "y@20:2->-"}));
}

TEST(state_directory, one_holder_per_task_directory) {
  const std::string root = temp_dir("dirs");
  rill::state::state_directory dirs(root);
  auto held = dirs.try_lock("0_1");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(dirs.try_lock("0_1"), nullptr)
      << "a second holder, even in the same process, is refused";
  EXPECT_NE(dirs.try_lock("0_2"), nullptr);  // taken and released at once
  EXPECT_EQ(dirs.clean(std::chrono::milliseconds(0)), std::vector<std::string>{"0_2"});
  EXPECT_TRUE(fs::exists(root + "/0_1")) << "a held directory is never cleaned";
  EXPECT_TRUE(dirs.clean(std::chrono::hours(1)).empty()) << "recently used directories are kept";
  held.reset();
  auto removed = dirs.clean(std::chrono::milliseconds(0));
  EXPECT_TRUE(std::find(removed.begin(), removed.end(), "0_1") != removed.end());
  EXPECT_FALSE(fs::exists(root + "/0_1"));
  fs::remove_all(root);
}

TEST(task_db, memory_stays_under_the_apps_bound_with_many_stores) {
  // 20 tasks with 2 stores each write ~170 MB in all, ten times the 16 MiB bound.
  constexpr std::size_t bound = 16 << 20;
  rill::state::rocksdb_env env(bound);
  const std::string root = temp_dir("memory");
  std::vector<std::unique_ptr<rill::state::task_db>> dbs;
  for (int t = 0; t < 20; ++t) {
    dbs.push_back(std::make_unique<rill::state::task_db>(env, root + "/" + std::to_string(t),
                                                         std::vector<std::string>{"a", "b"}));
  }
  const std::string value(200, 'v');
  std::size_t most_cache = 0;
  std::size_t most_memtables = 0;
  bytes out;
  for (int round = 0; round < 20; ++round) {
    for (auto& db : dbs) {
      for (const char* store : {"a", "b"}) {
        for (int i = 0; i < 1000; ++i) {
          std::string key = std::to_string(round) + ":" + std::to_string(i);
          db->store(store).put(rill::as_bytes(key), rill::as_bytes(value));
        }
      }
      db->commit({});
      // Reads pull blocks into the shared cache too.
      for (int i = 0; i < 200; ++i)
        db->store("a").get(rill::as_bytes(std::to_string(round / 2) + ":" + std::to_string(i * 5)),
                           out);
    }
    std::size_t memtables = 0;
    for (auto& db : dbs) memtables += db->memtable_bytes();
    most_cache = std::max(most_cache, env.memory_usage());
    most_memtables = std::max(most_memtables, memtables);
  }
  std::cout << "peak: block cache with charged memtables " << most_cache
            << " bytes, memtables (RocksDB's count) " << most_memtables << " bytes; bound " << bound
            << std::endl;
  EXPECT_LE(most_cache, bound);
  EXPECT_LE(most_memtables, bound);
  EXPECT_GT(most_cache, bound / 4) << "the cache was actually used";
  dbs.clear();
  fs::remove_all(root);
}

TEST(task_db, the_options_callback_sees_every_store) {
  std::vector<std::string> seen;
  rill::state::rocksdb_env env(32 << 20, [&](const std::string& store, rocksdb::Options& o) {
    seen.push_back(store);
    o.max_write_buffer_number = 4;
  });
  const std::string dir = temp_dir("setter");
  { rill::state::task_db db(env, dir, {"orders", "totals"}); }
  EXPECT_NE(std::find(seen.begin(), seen.end(), "orders"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "totals"), seen.end());
  fs::remove_all(dir);
}

// Store results work with the standard ranges library.
static_assert(std::ranges::input_range<rill::key_value_store<std::string, std::int64_t>::entries>);
