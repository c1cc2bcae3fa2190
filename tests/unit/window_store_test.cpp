// Window and session stores against a simple model, on RocksDB and in memory: long random
// sequences of puts, fetches, removals and retention advances over many segments (times
// spread across segment boundaries), with commits and a reopen for RocksDB.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <tuple>

#include <rill/window_store.hpp>

#include "state/memory_store.hpp"
#include "state/segmented_store.hpp"
#include "state/task_db.hpp"

namespace fs = std::filesystem;
using rill::timestamp_ms;

namespace {

// A store facade's view of a segmented store: no cache, no changelog.
struct test_access final : rill::detail::store_access {
  explicit test_access(rill::detail::kv_store& s) : store(s) {}
  rill::detail::kv_store& store;
  std::string topic = "changelog";
  rill::detail::kv_store& bytes_store() override { return store; }
  bool cached() const override { return false; }
  void set_flush_listener(rill::detail::cache_flush_listener*) override {}
  const std::string& changelog_topic() const override { return topic; }
};

constexpr std::int64_t retention = 300'000;  // segments of 150 000 ms
constexpr std::int64_t size = 60'000;

std::string random_key(std::mt19937& rng) {
  static const char* keys[] = {"a", "ab", "b", "a\x01", "zz", "", "b\xff"};
  return keys[rng() % 7];
}

// The model of a window store: what is there, and which windows retention still keeps.
struct window_model {
  std::map<std::pair<std::string, timestamp_ms>, std::int64_t> entries;
  timestamp_ms newest = -1;
  bool live(timestamp_ms start) const { return newest < 0 || start > newest - retention; }
  void put(const std::string& k, timestamp_ms start, std::int64_t v) {
    newest = std::max(newest, start);
    if (live(start)) entries[{k, start}] = v;
  }
};

void run_window_model(rill::detail::kv_store& inner, rill::detail::window_layout layout,
                      std::uint32_t seed, int steps, const std::function<void()>& commit = {}) {
  rill::state::segmented_store seg(
      inner, {layout == rill::detail::window_layout::by_key ? rill::state::time_at::end
                                                            : rill::state::time_at::start,
              retention, rill::state::default_segment_ms(retention)});
  test_access a(seg);
  rill::window_store<std::string, std::int64_t> store(
      a, rill::default_serde<std::string>(), rill::default_serde<std::int64_t>(), layout, size);
  window_model model;
  std::mt19937 rng(seed);
  timestamp_ms clock = 0;  // moves forward mostly, so retention keeps advancing
  for (int step = 0; step < steps; ++step) {
    const std::string k = random_key(rng);
    if (rng() % 50 == 0) clock += 40'000 + static_cast<timestamp_ms>(rng() % 120'000);
    const timestamp_ms start =
        std::max<timestamp_ms>(0, clock - static_cast<timestamp_ms>(rng() % 400'000)) / 1000 * 1000;
    switch (rng() % 6) {
      case 0:
      case 1: {
        const std::int64_t v = static_cast<std::int64_t>(rng() % 1000);
        store.put(k, v, start);
        model.put(k, start, v);
        break;
      }
      case 2:
        store.remove(k, start);
        model.entries.erase({k, start});
        break;
      case 3: {
        auto got = store.fetch(k, start);
        auto it = model.entries.find({k, start});
        const bool want = it != model.entries.end() && model.live(start);
        ASSERT_EQ(got.has_value(), want) << "fetch " << k << "@" << start << ", step " << step;
        if (want) ASSERT_EQ(*got, it->second);
        break;
      }
      case 4: {
        const timestamp_ms to = start + static_cast<timestamp_ms>(rng() % 300'000);
        std::vector<std::pair<timestamp_ms, std::int64_t>> got;
        for (const auto& e : store.fetch(k, start, to)) {
          ASSERT_EQ(e.key.end, e.key.start + size);
          got.emplace_back(e.key.start, e.value);
        }
        std::vector<std::pair<timestamp_ms, std::int64_t>> want;
        for (const auto& [key, v] : model.entries) {
          if (key.first == k && key.second >= start && key.second <= to && model.live(key.second))
            want.emplace_back(key.second, v);
        }
        ASSERT_EQ(got, want) << "fetch range of " << k << ", step " << step;
        if (!want.empty()) {
          auto back = store.backward_fetch(k, start, to);
          ASSERT_EQ(back.front().key.start, want.back().first) << "backward, step " << step;
        }
        break;
      }
      case 5: {
        if (commit && rng() % 5 == 0) commit();
        const timestamp_ms to = start + static_cast<timestamp_ms>(rng() % 300'000);
        std::vector<std::tuple<std::string, timestamp_ms, std::int64_t>> got;
        for (const auto& e : store.fetch_all(start, to))
          got.emplace_back(e.key.key, e.key.window.start, e.value);
        std::vector<std::tuple<std::string, timestamp_ms, std::int64_t>> want;
        for (const auto& [key, v] : model.entries) {
          if (key.second >= start && key.second <= to && model.live(key.second))
            want.emplace_back(key.first, key.second, v);
        }
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, want) << "fetch_all, step " << step;
        break;
      }
    }
  }
}

struct session_model {
  std::map<std::tuple<std::string, timestamp_ms, timestamp_ms>, std::int64_t> entries;  // k, s, e
  timestamp_ms newest = -1;  // largest end
  bool live(timestamp_ms end) const { return newest < 0 || end > newest - retention; }
};

void run_session_model(rill::detail::kv_store& inner, std::uint32_t seed, int steps,
                       const std::function<void()>& commit = {}) {
  rill::state::segmented_store seg(inner, {rill::state::time_at::before_end, retention,
                                           rill::state::default_segment_ms(retention)});
  test_access a(seg);
  rill::session_store<std::string, std::int64_t> store(a, rill::default_serde<std::string>(),
                                                       rill::default_serde<std::int64_t>());
  session_model model;
  std::mt19937 rng(seed);
  timestamp_ms clock = 0;
  for (int step = 0; step < steps; ++step) {
    const std::string k = random_key(rng);
    if (rng() % 50 == 0) clock += 40'000 + static_cast<timestamp_ms>(rng() % 120'000);
    const timestamp_ms start =
        std::max<timestamp_ms>(0, clock - static_cast<timestamp_ms>(rng() % 400'000));
    const timestamp_ms end = start + static_cast<timestamp_ms>(rng() % 50'000);
    switch (rng() % 5) {
      case 0:
      case 1: {
        const std::int64_t v = static_cast<std::int64_t>(rng() % 1000);
        store.put({k, {start, end, true}}, v);
        model.newest = std::max(model.newest, end);
        if (model.live(end)) model.entries[{k, start, end}] = v;
        break;
      }
      case 2: {
        // Remove an existing session of the key, when there is one.
        auto it = model.entries.lower_bound({k, 0, 0});
        if (it != model.entries.end() && std::get<0>(it->first) == k) {
          const auto [kk, s, e] = it->first;
          store.remove({kk, {s, e, true}});
          model.entries.erase(it);
        }
        break;
      }
      case 3: {
        const timestamp_ms earliest_end = start;
        const timestamp_ms latest_start = start + static_cast<timestamp_ms>(rng() % 100'000);
        std::vector<std::tuple<timestamp_ms, timestamp_ms, std::int64_t>> got;
        for (const auto& e : store.find_sessions(k, earliest_end, latest_start)) {
          ASSERT_EQ(e.key.key, k);
          got.emplace_back(e.key.window.start, e.key.window.end, e.value);
        }
        std::vector<std::tuple<timestamp_ms, timestamp_ms, std::int64_t>> want;
        for (const auto& [key, v] : model.entries) {
          const auto& [kk, s, e] = key;
          if (kk == k && e >= earliest_end && s <= latest_start && model.live(e))
            want.emplace_back(s, e, v);
        }
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, want) << "find_sessions of " << k << ", step " << step;
        break;
      }
      case 4: {
        if (commit && rng() % 5 == 0) commit();
        std::size_t n = 0;
        for (const auto& e : store.all()) {
          (void)e;
          ++n;
        }
        std::size_t want = 0;
        for (const auto& [key, v] : model.entries) want += model.live(std::get<2>(key)) ? 1 : 0;
        ASSERT_EQ(n, want) << "all, step " << step;
        break;
      }
    }
  }
}

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() /
             ("rill-window-store-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir.string();
}

}  // namespace

TEST(window_store, in_memory_agrees_with_a_model_across_segments_and_retention) {
  for (auto layout : {rill::detail::window_layout::by_key, rill::detail::window_layout::by_time}) {
    rill::state::memory_store inner("w");
    run_window_model(inner, layout, 11, 30000);
  }
}

TEST(window_store, on_rocksdb_agrees_with_a_model_through_commits) {
  rill::state::rocksdb_env env(64 << 20);
  for (auto layout : {rill::detail::window_layout::by_key, rill::detail::window_layout::by_time}) {
    rill::state::task_db db(env, temp_dir("w" + std::to_string(static_cast<int>(layout))), {"w"});
    std::int64_t offset = 0;
    run_window_model(db.store("w"), layout, 12, 20000, [&] {
      db.commit({{"w", rill::detail::next_offset{++offset}}});
    });
  }
}

TEST(session_store, in_memory_agrees_with_a_model_across_segments_and_retention) {
  rill::state::memory_store inner("s");
  run_session_model(inner, 21, 30000);
}

TEST(session_store, on_rocksdb_agrees_with_a_model_through_commits) {
  rill::state::rocksdb_env env(64 << 20);
  rill::state::task_db db(env, temp_dir("s"), {"s"});
  std::int64_t offset = 0;
  run_session_model(db.store("s"), 22, 20000, [&] {
    db.commit({{"s", rill::detail::next_offset{++offset}}});
  });
}

TEST(segmented_store, expired_segments_are_dropped_whole_and_never_read) {
  rill::state::memory_store inner("w");
  rill::state::segmented_store seg(inner, {rill::state::time_at::end, 1000, 500});
  test_access a(seg);
  rill::window_store<std::string, std::int64_t> store(a, rill::default_serde<std::string>(),
                                                      rill::default_serde<std::int64_t>(),
                                                      rill::detail::window_layout::by_key, 100);
  for (timestamp_ms t = 0; t < 1000; t += 100) store.put("k", t, t);
  EXPECT_EQ(inner.approximate_count(), 10u);
  store.put("k", 1700, 1700);  // retention 1000: starts <= 700 are gone
  EXPECT_FALSE(store.fetch("k", 700).has_value());
  EXPECT_TRUE(store.fetch("k", 800).has_value());
  // Segments [0, 500) went in one drop; [500, 1000) still holds the live 800 and 900.
  EXPECT_EQ(inner.approximate_count(), 6u) << "5 dropped with their segment";
  std::vector<timestamp_ms> starts;
  for (const auto& e : store.fetch("k", 0, 2000)) starts.push_back(e.key.start);
  EXPECT_EQ(starts, (std::vector<timestamp_ms>{800, 900, 1700}));
}

// A window store keeping duplicates (a join's buffer): every put is an entry, in put order
// within a key and start; fetches see them all across segments, removal takes them all,
// and retention drops them by segment as any window store's.
TEST(window_store, keeping_duplicates_returns_every_put_in_order_across_segments) {
  rill::state::memory_store inner("w");
  rill::state::segmented_store seg(inner, {rill::state::time_at::before_end, 1000, 500});
  test_access a(seg);
  rill::window_store<std::string, std::int64_t> store(a, rill::default_serde<std::string>(),
                                                      rill::default_serde<std::int64_t>(),
                                                      rill::detail::window_layout::by_key_dup, 0);
  std::mt19937 rng(5);
  std::map<std::string, std::vector<std::pair<timestamp_ms, std::int64_t>>> model;
  for (std::int64_t i = 0; i < 400; ++i) {
    const std::string k = random_key(rng);
    const timestamp_ms t = static_cast<timestamp_ms>(rng() % 8) * 100;  // many equal times
    store.put(k, i, t);
    model[k].emplace_back(t, i);
  }
  EXPECT_EQ(inner.approximate_count(), 400u);
  for (auto& [k, puts] : model) {
    std::stable_sort(puts.begin(), puts.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::pair<timestamp_ms, std::int64_t>> got;
    for (const auto& e : store.fetch(k, 0, 700)) got.emplace_back(e.key.start, e.value);
    EXPECT_EQ(got, puts) << "key '" << k << "'";
    std::vector<std::pair<timestamp_ms, std::int64_t>> middle;
    for (const auto& e : store.fetch(k, 200, 499)) middle.emplace_back(e.key.start, e.value);
    std::vector<std::pair<timestamp_ms, std::int64_t>> want;
    for (const auto& p : puts)
      if (p.first >= 200 && p.first <= 499) want.push_back(p);
    EXPECT_EQ(middle, want) << "key '" << k << "', [200, 499]";
  }
  std::size_t all = 0;
  for (const auto& e : store.fetch_all(0, 700)) all += model.count(e.key.key);
  EXPECT_EQ(all, 400u);
  const std::string k = model.begin()->first;
  store.remove(k, 300);
  for (const auto& e : store.fetch(k, 0, 700)) EXPECT_NE(e.key.start, 300) << "removed";
  store.put("late", 1, 1600);  // retention 1000: starts < 601 are gone, by segment
  for (const auto& e : store.fetch_all(0, 2000)) EXPECT_GE(e.key.window.start, 601);
}
