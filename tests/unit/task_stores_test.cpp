// Two instances on one host with one state.dir never open the same task directory: the
// second waits until the first lets go.
#include <gtest/gtest.h>

#include <filesystem>

#include <rill/rill.hpp>

#include "src/runtime/stream_task.hpp"
#include "src/runtime/task_stores.hpp"

namespace {
struct null_sender final : rill::detail::record_sender {
  void send(std::string_view, std::int32_t, std::optional<rill::bytes_view>,
            std::optional<rill::bytes_view>, const rill::headers&, rill::timestamp_ms) override {}
  std::int32_t partition_count(std::string_view) override { return 1; }
};
}  // namespace

TEST(task_stores, a_task_directory_has_one_holder_at_a_time) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").group_by_key().count(rill::named("counts"));
  auto t = b.build();
  const auto root =
      std::filesystem::temp_directory_path() / ("rill-lock-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  rill::state::state_directory dir(root.string());  // one state.dir, two "instances" below
  rill::state::rocksdb_env env(32 << 20);
  null_sender sender;
  rill::runtime::state_services services{"app", &dir, &env, nullptr};
  rill::runtime::task_settings settings;
  settings.application_id = "app";
  settings.wall_clock = [] { return rill::timestamp_ms{0}; };

  rill::runtime::stream_task first({0, 0}, t.compiled(), settings, sender);
  rill::runtime::stream_task second({0, 0}, t.compiled(), settings, sender);
  ASSERT_TRUE(first.open_state(services));
  EXPECT_FALSE(second.open_state(services)) << "the directory is held";
  rill::runtime::stream_task other_partition({0, 1}, t.compiled(), settings, sender);
  EXPECT_TRUE(other_partition.open_state(services)) << "another task's directory is free";
  first.close(true);
  EXPECT_TRUE(second.open_state(services)) << "free once the first closed";
  second.close(true);
  other_partition.close(true);
  std::filesystem::remove_all(root);
}

// A join buffer keeps every record, equal keys and times too: each put is an entry of its
// own under a sequence number. Numbers given out before a restart must not be given again,
// or a new record would overwrite one kept from before it (a lost join result): after a
// clean restart (the checkpoint) and after a restore from the changelog alone.
namespace {

struct counting_sender final : rill::detail::record_sender {
  std::vector<std::pair<rill::bytes, std::optional<rill::bytes>>> changelog;
  void send(std::string_view, std::int32_t, std::optional<rill::bytes_view> k,
            std::optional<rill::bytes_view> v, const rill::headers&, rill::timestamp_ms) override {
    changelog.emplace_back(
        rill::bytes(k->begin(), k->end()),
        v ? std::optional<rill::bytes>(rill::bytes(v->begin(), v->end())) : std::nullopt);
  }
  std::int32_t partition_count(std::string_view) override { return 1; }
};

rill::topology joined(rill::store_type type) {
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("l");
  auto r = b.stream<std::string, std::string>("r");
  l.join(
       r, [](const std::string& a, const std::string& c) { return a + c; },
       rill::join_window(std::chrono::milliseconds(100)),
       rill::stream_joined<std::string, std::string, std::string>{.store_name = "j", .type = type})
      .to("out");
  return b.build();
}

std::vector<std::string> kept(rill::runtime::task_stores& stores) {
  auto* w =
      dynamic_cast<rill::window_store<std::string, std::string>*>(stores.facade("j-left-store"));
  EXPECT_NE(w, nullptr);
  std::vector<std::string> out;
  if (w == nullptr) return out;
  for (const auto& e : w->fetch("k", 0, 1000)) out.push_back(e.value);
  return out;
}

void put(rill::runtime::task_stores& stores, const std::string& v) {
  auto* w =
      dynamic_cast<rill::window_store<std::string, std::string>*>(stores.facade("j-left-store"));
  ASSERT_NE(w, nullptr);
  w->put("k", v, 10);
}

}  // namespace

TEST(task_stores, a_join_buffer_keeps_equal_keys_and_times_through_restarts_and_restores) {
  const auto root =
      std::filesystem::temp_directory_path() / ("rill-dup-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  rill::state::state_directory dir(root.string());
  rill::state::rocksdb_env env(32 << 20);
  rill::runtime::state_services services{"app", &dir, &env, nullptr};
  auto t = joined(rill::store_type::rocksdb);
  counting_sender sender;
  const rill::record_context current;  // no record: writes carry stream time, 0
  const rill::timestamp_ms stream_time = 0;
  const rill::timestamp_ms now = 0;
  const rill::runtime::task_time clock{&current, &stream_time, &now};
  auto delivered = [&](const rill::kafka::topic_partition&) {
    return std::optional<rill::detail::record_offset>(
        rill::detail::record_offset{static_cast<std::int64_t>(sender.changelog.size()) - 1});
  };
  {
    rill::runtime::task_stores stores({0, 0}, t.compiled(), services, sender, clock);
    put(stores, "a");
    put(stores, "b");
    EXPECT_EQ(kept(stores), (std::vector<std::string>{"a", "b"}));
    stores.commit(delivered);
    stores.close(true);
  }
  {  // a clean restart: the local store and its checkpoint
    rill::runtime::task_stores stores({0, 0}, t.compiled(), services, sender, clock);
    put(stores, "c");
    EXPECT_EQ(kept(stores), (std::vector<std::string>{"a", "b", "c"}));
    stores.commit(delivered);
    stores.close(true);
  }
  ASSERT_EQ(sender.changelog.size(), 3u);
  // Another instance with no local state: everything from the changelog, then one more.
  auto mem = joined(rill::store_type::in_memory);
  rill::runtime::task_stores stores({0, 0}, mem.compiled(), services, sender, clock);
  rill::state::task_db::restore_batch batch;
  for (const auto& [k, v] : sender.changelog)
    batch.records.emplace_back(rill::bytes_view(k), rill::bytes_view(*v));
  stores.restore("j-left-store", batch, rill::detail::next_offset{3});
  EXPECT_EQ(kept(stores), (std::vector<std::string>{"a", "b", "c"}));
  put(stores, "d");
  EXPECT_EQ(kept(stores), (std::vector<std::string>{"a", "b", "c", "d"}));
  stores.close(true);
  std::filesystem::remove_all(root);
}
