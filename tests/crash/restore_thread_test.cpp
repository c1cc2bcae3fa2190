// restore.thread.enabled=true, on the simulated cluster: a stream thread processes its running
// tasks while another task restores on its restore thread; a task revoked while it restores
// there closes safely; and a restoration that fails there fails the stream thread with the
// error it raised when it restored inline. The harness steps the stream threads; each
// restore thread runs on its own, so these runs wait on real time (bounded) where it matters.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <rill/rill.hpp>

#include "crash_harness.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Each key's latest value, in store "kv", and forwarded to "out".
rill::topology latest_per_key() {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in")
      .group_by_key()
      .reduce([](std::string, const std::string& latest) { return latest; }, rill::named("kv"))
      .to_stream()
      .to("out");
  return b.build();
}

rill::config app_config(const std::string& app, bool restore_thread) {
  return rill::config{{"application.id", app},
                      {"restore.thread.enabled", restore_thread ? "true" : "false"},
                      {"statestore.cache.max.bytes", "0"}};  // every update reaches "out" at once
}

// `records` changelog records of task 0_0's store over `keys` keys; returns the compaction.
std::map<std::string, std::string> write_changelog(rill::crash::run& r, const std::string& app,
                                                   int records, int keys) {
  std::map<std::string, std::string> latest;
  for (int i = 0; i < records; ++i) {
    const std::string key = "old-" + std::to_string(i % keys);
    const std::string value = "v" + std::to_string(i);
    r.cluster().produce(app + "-kv-changelog", 0, rill::to_bytes(key), rill::to_bytes(value), 0);
    latest[key] = value;
  }
  return latest;
}

// Steps the instances until `done`; false once `limit` of real time has passed.
bool step_until(rill::crash::run& r, const std::function<bool()>& done,
                std::chrono::seconds limit = 60s) {
  const auto deadline = clock_type::now() + limit;
  while (!done()) {
    if (clock_type::now() > deadline) return false;
    r.steps(1);
  }
  return true;
}

bool output_has(rill::crash::run& r, const std::string& key) {
  for (const auto& rec : r.cluster().read_committed("out"))
    if (rec.key && std::string(rill::as_chars(*rec.key)) == key) return true;
  return false;
}

std::map<std::string, std::string> store_content(rill::crash::run& r) {
  std::map<std::string, std::string> out;
  r.for_each_entry<std::string, std::string>(
      "kv", [&](auto&, const std::string& k, const std::string& v) { out.emplace(k, v); });
  return out;
}

// A flag one thread sets and another awaits, with a timeout.
struct signal {
  std::mutex mutex;
  std::condition_variable cv;
  bool set = false;
  void raise() {
    {
      std::lock_guard lock(mutex);
      set = true;
    }
    cv.notify_all();
  }
  bool wait(std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [&] { return set; });
  }
};

// Task 0_0's restoration ends only once the test has seen task 0_1's output (or 30 s passed):
// had restoration run on the stream thread, nothing would have processed meanwhile.
struct end_after_output final : rill::restore_listener {
  void on_restore_end(const rill::task_id& task, std::string_view, std::uint64_t) override {
    if (task != rill::task_id{0, 0}) return;
    output_before_end = output_seen.wait(30s);
    ended.raise();
  }
  signal output_seen;
  signal ended;
  std::atomic<bool> output_before_end{false};
};

TEST(restore_thread, a_task_processes_and_produces_while_another_task_of_its_thread_restores) {
  rill::set_log_level(rill::log_level::warn);
  const std::string app = "rt-progress";
  auto listener = std::make_shared<end_after_output>();
  rill::crash::settings s;
  s.instances = 1;
  s.restore_listener = listener;
  rill::crash::run r(latest_per_key(), app_config(app, true), 1, s, /*faults=*/false);
  r.create_topics({{"in", 2}});
  r.create_output_topic("out", 2);
  const auto restored_content = write_changelog(r, app, 20000, 2000);
  r.cluster().produce("in", 1, rill::to_bytes("fresh"), rill::to_bytes("new"), 0);
  r.start_instances();

  ASSERT_TRUE(step_until(r, [&] { return output_has(r, "fresh"); }))
      << "task 0_1 produced no output within 60 s\n"
      << r.report();
  listener->output_seen.raise();
  ASSERT_TRUE(listener->ended.wait(60s)) << "task 0_0's restoration never ended";
  EXPECT_TRUE(listener->output_before_end)
      << "task 0_1's output came only after task 0_0's restoration ended";
  ASSERT_TRUE(step_until(r, [&] { return r.every_task_running(); })) << r.report();
  ASSERT_TRUE(r.drain()) << r.report();
  auto content = store_content(r);
  EXPECT_EQ(content["fresh"], "new");
  content.erase("fresh");
  EXPECT_TRUE(content == restored_content) << "the restored store differs from its changelog";
  EXPECT_TRUE(r.unexpected().empty()) << r.report();
  r.stop();
}

// The first restored batch waits until instance 0's stream thread is being revoked: the
// task is closed (and destroyed) with most of its changelog still to restore.
struct hold_until_revoked final : rill::restore_listener {
  void on_batch_restored(const rill::task_id&, std::string_view, std::int64_t,
                         std::uint64_t) override {
    if (held.exchange(true)) return;
    first.raise();
    const auto deadline = clock_type::now() + 30s;
    rill::runtime::stream_thread* t = thread.load();
    std::unique_lock lock(revoked.mutex);
    while (!t->assignment().empty() && clock_type::now() < deadline)
      revoked.cv.wait_for(lock, 1ms);  // the stream thread is stepped: nothing to notify
    revoked.set = t->assignment().empty();
  }
  void on_restore_end(const rill::task_id&, std::string_view, std::uint64_t) override {
    std::lock_guard lock(revoked.mutex);
    if (!revoked.set) ++ended_before_revocation;
  }
  std::atomic<rill::runtime::stream_thread*> thread{nullptr};
  std::atomic<bool> held{false};
  signal first;
  signal revoked;
  std::atomic<int> ended_before_revocation{0};
};

TEST(restore_thread, a_task_revoked_while_restoring_on_the_restore_thread_closes_safely) {
  rill::set_log_level(rill::log_level::warn);
  const std::string app = "rt-revoke";
  auto listener = std::make_shared<hold_until_revoked>();
  rill::crash::settings s;
  s.instances = 2;
  s.restore_listener = listener;
  rill::config cfg = app_config(app, true);
  cfg.set("restore.bulk.min.records", "1000000000");  // batches of 10 000: many rounds
  rill::crash::run r(latest_per_key(), cfg, 1, s, /*faults=*/false);
  r.create_topics({{"in", 1}});
  r.create_output_topic("out", 1);
  const auto compacted = write_changelog(r, app, 60000, 3000);
  r.start_instances(1);
  listener->thread = r.thread(0);
  ASSERT_TRUE(step_until(r, [&] { return listener->first.wait(0s); }))
      << "task 0_0 never restored a batch\n"
      << r.report();
  r.restart(1);  // joins: the eager rebalance revokes task 0_0 from instance 0
  ASSERT_TRUE(step_until(r, [&] { return listener->revoked.wait(0s); }))
      << "instance 0 was never revoked\n"
      << r.report();
  EXPECT_EQ(listener->ended_before_revocation.load(), 0)
      << "task 0_0 finished restoring before its revocation: nothing was tested";
  ASSERT_TRUE(step_until(r, [&] { return r.every_task_running(); })) << r.report();
  ASSERT_TRUE(r.drain()) << r.report();
  EXPECT_TRUE(store_content(r) == compacted) << "the store differs from its changelog";
  EXPECT_TRUE(r.unexpected().empty()) << r.report();
  r.stop();
}

// A record without a key in a changelog: restoring inline or on the restore thread, the
// stream thread dies of the same error.
std::string restore_failure(bool restore_thread) {
  const std::string app = "rt-corrupt";
  rill::crash::settings s;
  s.instances = 1;
  rill::crash::run r(latest_per_key(), app_config(app, restore_thread), 1, s, /*faults=*/false);
  r.create_topics({{"in", 1}});
  r.create_output_topic("out", 1);
  write_changelog(r, app, 5, 5);
  r.cluster().produce(app + "-kv-changelog", 0, std::nullopt, rill::to_bytes("v"), 0);
  write_changelog(r, app, 5, 5);
  r.start_instances();
  if (!step_until(r, [&] { return !r.unexpected().empty(); })) return "no error: " + r.report();
  const std::string& what = r.unexpected().front();  // "step N: i0 died: <what()>"
  return what.substr(what.find("died: "));
}

TEST(restore_thread, a_corrupt_changelog_fails_the_stream_thread_as_it_did_without_it) {
  rill::set_log_level(rill::log_level::off);
  const std::string inline_error = restore_failure(false);
  EXPECT_NE(inline_error.find("cannot restore: the changelog record at offset 5"),
            std::string::npos)
      << inline_error;
  EXPECT_EQ(restore_failure(true), inline_error);
}

}  // namespace
