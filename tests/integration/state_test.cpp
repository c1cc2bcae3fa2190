// State on the embedded broker: the bank's invariants end to end; a stateful service killed
// with SIGKILL and restarted restores only its checkpoint's tail and ends in the fault-free
// state; a task moved by a rebalance arrives with its state restored.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>

#include <rill/rill.hpp>

#include "examples/bank/bank.hpp"
#include "examples/bank/scenario.hpp"
#include "harness.hpp"
#include "src/runtime/cluster.hpp"

using namespace rill::test;

namespace {

std::string temp_state_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / unique(name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// Counts what restoration reports, per store.
struct counting_listener : rill::restore_listener {
  std::mutex m;
  std::map<std::string, std::uint64_t> restored;
  std::map<std::string, std::int64_t> start;  // the smallest start offset seen
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> starts;  // per store, partition
  void on_restore_start(const rill::task_id& task, std::string_view store, std::int64_t from,
                        std::int64_t) override {
    std::lock_guard lock(m);
    auto [it, fresh] = start.emplace(std::string(store), from);
    if (!fresh) it->second = std::min(it->second, from);
    starts[{std::string(store), task.partition}] = from;
  }
  void on_restore_end(const rill::task_id&, std::string_view store, std::uint64_t total) override {
    std::lock_guard lock(m);
    restored[std::string(store)] += total;
  }
  std::uint64_t total(const std::string& store) {
    std::lock_guard lock(m);
    return restored[store];
  }
};

std::int64_t committed_total(const cluster& c, const std::string& group, const std::string& topic,
                             int partitions) {
  auto conn = rill::runtime::connect_cluster(c.bootstrap(), c.control());
  auto consumer = conn.clients->make_consumer({{"group.id", group}});
  std::vector<rill::kafka::partition_offset> offsets;
  for (int p = 0; p < partitions; ++p) offsets.push_back({{topic, p}, -1});
  if (consumer->committed(offsets, std::chrono::seconds(10))) return -1;
  std::int64_t total = 0;
  for (const auto& o : offsets) total += std::max<std::int64_t>(o.offset, 0);
  consumer->close();
  return total;
}

}  // namespace

TEST(state, the_bank_keeps_its_invariants) {
  cluster c;
  bank::topics t{unique("bank") + "-"};
  for (const auto& topic : {t.commands(), t.events(), t.balances()}) c.create_topic(topic, 4);
  auto commands = bank::generate(6000, 150);
  rill::config cfg = c.app_config(unique("bank"));
  cfg.set("state.dir", temp_state_dir("bank-state"));
  cfg.set("num.stream.threads", "2");
  rill::streams_app app(bank::topology(t), cfg);
  app.start();
  // The commands go in once both threads are in the group. At-least-once cannot keep the
  // bank's invariants through a rebalance whose commit fails (the work since the last commit
  // is done again on state that already has it), and the embedded broker refuses every
  // commit while a late member joins: a thread that joined late under load would be such
  // a rebalance. tests/crash proves the invariants through failures under exactly-once.
  ASSERT_TRUE(app.wait_until_running(60s));
  rill::topic_writer<std::string, bank::command> w(c.bootstrap(), c.props());
  for (const auto& cmd : commands) w.send(t.commands(), cmd.account, cmd);
  w.flush();
  bank::outputs read;
  auto result = bank::read_and_check(c.bootstrap(), c.props(), commands, 120s, t, &read);
  EXPECT_TRUE(result.ok()) << result.summary();
  for (const auto& p : result.problems) ADD_FAILURE() << p;
  EXPECT_GT(result.refunded, 0u)
      << "transfers to unknown accounts came back through the feedback topic";
  EXPECT_GT(result.rejected, 0u);
  std::cout << result.summary() << "\n" << bank::balance_view(read);
  EXPECT_TRUE(app.close());
}

TEST(state, a_killed_service_restores_only_its_checkpoint_tail_and_ends_in_the_fault_free_state) {
  cluster c;
  const std::string prefix = unique("wc") + "-";
  const std::string in = prefix + "text-input";
  const std::string out = prefix + "word-count-output";
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  const std::string app_id = unique("wc");
  const std::string state_dir = temp_state_dir("wc-state");
  const std::string props = c.write_properties("/tmp/" + app_id + ".properties");
  std::ofstream(props, std::ios::app)
      << "consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=1000\n";
  // 30 000 distinct words, then 2 000 of them again: a store of 30 000 entries whose
  // changelog holds 32 000 records. (~25 bytes per record: far under the broker's limit.)
  auto word = [](int i) { return "w" + std::to_string(100000 + i); };
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 30000; ++i) w.send(in, "line", word(i));
  w.flush();
  process service(WORD_COUNT_PATH,
                  {"service", "--properties", props, "--state-dir", state_dir, "--application-id",
                   app_id, "--topic-prefix", prefix},
                  "/tmp/" + app_id + ".log");
  // Both subtopologies' offsets: the input's and the repartition topic's (one word a line).
  const std::string repartition = app_id + "-word-counts-repartition";
  auto committed = [&](std::int64_t n) {
    return committed_total(c, app_id, in, 2) == n &&
           committed_total(c, app_id, repartition, 2) == n;
  };
  ASSERT_TRUE(wait_for([&] { return committed(30000); }, 120s));
  for (int i = 0; i < 2000; ++i) w.send(in, "line", word(i));
  w.flush();
  // Everything processed and committed: a crash now may lose nothing and duplicate nothing.
  ASSERT_TRUE(wait_for([&] { return committed(32000); }, 120s));
  service.kill(SIGKILL);
  ASSERT_EQ(service.wait(10s), 128 + SIGKILL);
  // The changelog's end as the crash left it, read by a consumer of our own: what a restore
  // from a checkpoint has to replay is exactly end minus checkpoint, per partition (at least
  // once: no transaction markers, every offset a record).
  const std::string changelog = app_id + "-word-counts-changelog";
  std::vector<rill::kafka::partition_offset> ends{{{changelog, 0}, -1}, {{changelog, 1}, -1}};
  {
    auto conn = rill::runtime::connect_cluster(c.bootstrap(), c.control());
    auto consumer = conn.clients->make_consumer({{"group.id", unique("ends")}});
    ASSERT_FALSE(consumer->end_offsets(ends, std::chrono::seconds(10)));
    consumer->close();
  }
  ASSERT_EQ(ends[0].offset + ends[1].offset, 32000) << "the changelog holds every update";

  // Restart in this process on the same state directory.
  rill::config cfg = c.app_config(app_id);
  cfg.set("state.dir", state_dir);
  cfg.set("commit.interval.ms", "200");
  auto listener = std::make_shared<counting_listener>();
  rill::streams_app app(
      rill::topology([&] {
        rill::streams_builder b;
        b.stream<std::string, std::string>(in)
            .flat_map_values([](const std::string& l) { return std::vector<std::string>{l}; })
            .group_by([](const std::string&, const std::string& v) { return v; })
            .count(rill::named("word-counts"))
            .to_stream()
            .to(out);
        return b.build();
      }()),
      cfg);
  app.set_restore_listener(listener);
  app.start();
  ASSERT_TRUE(app.wait_until_running(120s));
  const std::uint64_t restored = listener->total("word-counts");
  std::cout << "restored " << restored << " of 32000 changelog records (store of 30000 entries)"
            << std::endl;
  EXPECT_GE(restored, 2000u) << "the updates after the last durable checkpoint are replayed";
  EXPECT_LE(restored, 12000u)
      << "not a full rebuild: at most one checkpoint interval (10 000 writes) plus the tail";
  EXPECT_GT(listener->start["word-counts"], 0) << "restoration started from a checkpoint";
  std::uint64_t tail = 0;
  for (const auto& e : ends) {
    // A partition whose checkpoint is at the end has nothing to restore and no restoration.
    const auto it = listener->starts.find({"word-counts", e.tp.partition});
    if (it != listener->starts.end()) tail += static_cast<std::uint64_t>(e.offset - it->second);
  }
  EXPECT_EQ(restored, tail) << "exactly the records between each checkpoint and the changelog's "
                               "end at the crash";

  // The store is exactly the fault-free one: one more of every word shows count + 1.
  rill::topic_reader<std::string, std::int64_t> reader(c.bootstrap(), out, c.props());
  reader.read_until_quiet(500ms);  // what was there before
  for (int i = 0; i < 30000; ++i) w.send(in, "line", word(i));
  w.flush();
  std::map<std::string, std::int64_t> latest;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : reader.read(100000, 200ms)) latest[r.key] = r.value;
        return latest.size() == 30000 && latest[word(29999)] == 2 && latest[word(0)] == 3;
      },
      120s));
  for (int i = 0; i < 30000; ++i) {
    ASSERT_EQ(latest[word(i)], i < 2000 ? 3 : 2) << word(i);
  }
  EXPECT_TRUE(app.close());
}

TEST(state, a_task_moved_by_a_rebalance_arrives_with_its_state_restored) {
  cluster c;
  const std::string in = unique("move-in");
  const std::string out = unique("move-out");
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  const std::string app_id = unique("move");
  auto topology = [&] {
    rill::streams_builder b;
    b.stream<std::string, std::string>(in)
        .group_by_key()
        .count(rill::named("counts"))
        .to_stream()
        .to(out);
    return b.build();
  };
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 2000; ++i) w.send(in, "k" + std::to_string(i % 100), "x");
  w.flush();
  rill::config a_cfg = c.app_config(app_id);
  a_cfg.set("state.dir", temp_state_dir("move-a"));
  a_cfg.set("commit.interval.ms", "200");
  rill::streams_app a(topology(), a_cfg);
  a.start();
  rill::topic_reader<std::string, std::int64_t> reader(c.bootstrap(), out, c.props());
  std::map<std::string, std::int64_t> latest;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : reader.read(100000, 200ms)) latest[r.key] = r.value;
        return latest.size() == 100 &&
               std::all_of(latest.begin(), latest.end(), [](auto& kv) { return kv.second == 20; });
      },
      90s));

  // Everything committed, so the move itself must not replay anything.
  ASSERT_TRUE(wait_for([&] { return committed_total(c, app_id, in, 2) == 2000; }, 60s));

  // A second instance joins with an empty state directory: one partition moves to it.
  rill::config b_cfg = c.app_config(app_id);
  b_cfg.set("state.dir", temp_state_dir("move-b"));
  b_cfg.set("commit.interval.ms", "200");
  auto listener = std::make_shared<counting_listener>();
  rill::streams_app b(topology(), b_cfg);
  b.set_restore_listener(listener);
  b.start();
  ASSERT_TRUE(wait_for(
      [&] { return listener->total("counts") > 0 && b.state() == rill::app_state::running; }, 90s));
  std::cout << "the moved task restored " << listener->total("counts") << " records" << std::endl;

  // Counting goes on from the restored values, on whichever instance owns a key now.
  for (int i = 0; i < 100; ++i) w.send(in, "k" + std::to_string(i), "x");
  w.flush();
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : reader.read(100000, 200ms)) latest[r.key] = r.value;
        return std::all_of(latest.begin(), latest.end(), [](auto& kv) { return kv.second == 21; });
      },
      90s))
      << "some counts did not continue from 20";
  EXPECT_TRUE(b.close());
  EXPECT_TRUE(a.close());
}

TEST(state, two_instances_sharing_a_state_directory_hand_tasks_over_cleanly) {
  cluster c;
  const std::string in = unique("share-in");
  const std::string out = unique("share-out");
  c.create_topic(in, 4);
  c.create_topic(out, 4);
  const std::string app_id = unique("share");
  const std::string dir = temp_state_dir("share");
  auto topology = [&] {
    rill::streams_builder b;
    b.stream<std::string, std::string>(in)
        .group_by_key()
        .count(rill::named("counts"))
        .to_stream()
        .to(out);
    return b.build();
  };
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < 1000; ++i) w.send(in, "k" + std::to_string(i % 50), "x");
  w.flush();
  rill::config cfg = c.app_config(app_id);
  cfg.set("state.dir", dir);
  cfg.set("commit.interval.ms", "200");
  rill::streams_app a(topology(), cfg);
  rill::streams_app b(topology(), cfg);
  a.start();
  ASSERT_TRUE(a.wait_until_running(60s));
  b.start();  // takes over tasks whose directories a still holds until it closes them
  for (int i = 0; i < 1000; ++i) w.send(in, "k" + std::to_string(i % 50), "x");
  w.flush();
  rill::topic_reader<std::string, std::int64_t> reader(c.bootstrap(), out, c.props());
  std::map<std::string, std::int64_t> latest;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& r : reader.read(100000, 200ms)) latest[r.key] = std::max(latest[r.key], r.value);
        return latest.size() == 50 &&
               std::all_of(latest.begin(), latest.end(), [](auto& kv) { return kv.second >= 40; });
      },
      120s));
  EXPECT_NE(a.state(), rill::app_state::error);
  EXPECT_NE(b.state(), rill::app_state::error);
  EXPECT_TRUE(a.close());
  EXPECT_TRUE(b.close());
}

TEST(state, directories_of_unassigned_tasks_are_cleaned_after_the_delay) {
  cluster c;
  const std::string in = unique("clean-in");
  c.create_topic(in, 1);
  const std::string app_id = unique("clean");
  const std::string dir = temp_state_dir("clean");
  // A task directory from an earlier assignment that this instance no longer has.
  std::filesystem::create_directories(dir + "/" + app_id + "/3_7/rocksdb");
  std::ofstream(dir + "/" + app_id + "/3_7/.lock") << "";
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).group_by_key().count(rill::named("counts"));
  rill::config cfg = c.app_config(app_id);
  cfg.set("state.dir", dir);
  cfg.set("state.cleanup.delay.ms", "0");
  rill::streams_app app(b.build(), cfg);
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  EXPECT_TRUE(wait_for([&] { return !std::filesystem::exists(dir + "/" + app_id + "/3_7"); }, 30s));
  EXPECT_TRUE(std::filesystem::exists(dir + "/" + app_id + "/0_0"))
      << "the assigned task's directory stays";
  EXPECT_TRUE(app.close());
}

// The example programs themselves, as a user runs them.
TEST(examples, word_count_counts_every_word) {
  process p(WORD_COUNT_PATH,
            {"all", "--lines", "3000", "--state-dir", temp_state_dir("wc-example")},
            "/tmp/" + unique("wc-example") + ".log");
  EXPECT_EQ(p.wait(180s), 0);
}

TEST(examples, the_bank_passes_its_invariant_checker) {
  const std::string log = "/tmp/" + unique("bank-example") + ".log";
  process p(BANK_PATH,
            {"all", "--commands", "4000", "--accounts", "80", "--state-dir",
             temp_state_dir("bank-example")},
            log);
  EXPECT_EQ(p.wait(240s), 0);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("check: invariants hold"), std::string::npos)
      << text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
}
