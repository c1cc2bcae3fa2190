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
