// The event router on a broker: the same output as the test driver; two processes in one
// group; one of them killed; a clean SIGTERM. Data: up to 20 000 events of ~250 bytes over
// 4 partitions, about 1.3 MB per partition, under the embedded broker's ~5 MiB.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <rill/testing/test_driver.hpp>

#include "examples/event_router/router.hpp"
#include "examples/event_router/scenario.hpp"
#include "harness.hpp"
#include "src/runtime/cluster.hpp"

using namespace rill::test;
using event_router::topics;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes the scenario's inputs, `per_second` at most (0: as fast as possible).
void write_inputs(const cluster& c, const topics& t, const std::vector<event_router::input>& inputs,
                  int per_second = 0) {
  rill::topic_writer<std::string, rill::bytes> writer(c.bootstrap(), c.props());
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    writer.send(t.input(), inputs[i].key, rill::to_bytes(inputs[i].raw));
    if (per_second > 0 && i % 100 == 99) {
      writer.flush();
      std::this_thread::sleep_until(
          start + std::chrono::milliseconds(1000 * static_cast<long>(i + 1) / per_second));
    }
  }
  writer.flush();
}

void create_topics(const cluster& c, const topics& t) {
  c.create_topic(t.input(), 4);
  for (const auto& o : t.outputs()) c.create_topic(o, 4);
}

// Committed offsets of a group, summed over the topic's partitions.
std::int64_t committed_total(const cluster& c, const std::string& group, const std::string& topic) {
  auto conn = rill::runtime::connect_cluster(c.bootstrap(), c.control());
  auto consumer = conn.clients->make_consumer({{"group.id", group}});
  std::vector<rill::kafka::partition_offset> offsets;
  for (int p = 0; p < 4; ++p) offsets.push_back({{topic, p}, -1});
  EXPECT_FALSE(consumer->committed(offsets, std::chrono::seconds(10)));
  std::int64_t total = 0;
  for (const auto& o : offsets) total += std::max<std::int64_t>(o.offset, 0);
  consumer->close();
  return total;
}

std::string service_binary() {
  return EVENT_ROUTER_PATH;
}

// Broker properties for service processes, plus settings of their own. The embedded
// broker waits session.timeout.ms - 1 s before a group's next generation whenever a member
// comes or goes, so multi-process tests use a short session timeout.
std::string service_properties(const cluster& c, const std::string& app_id,
                               const std::string& extra = "") {
  const std::string path = c.write_properties("/tmp/" + app_id + ".properties");
  std::ofstream(path, std::ios::app)
      << "consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=1000\n"
      << extra;
  return path;
}

}  // namespace

TEST(event_router, output_on_the_broker_equals_the_test_drivers) {
  cluster c;
  topics t{unique("eq") + "-"};
  create_topics(c, t);
  auto inputs = event_router::generate(3000, 7);
  write_inputs(c, t, inputs);

  rill::config cfg = event_router::settings(unique("router-eq"), t);
  const rill::config broker = c.app_config("x");
  for (const auto& [k, v] : broker.values()) {
    if (k != "application.id") cfg.set(k, v);
  }
  rill::streams_app app(event_router::topology(t), cfg);
  app.start();
  event_router::outputs on_broker;
  auto checked = event_router::read_and_check(c.bootstrap(), c.props(), inputs, 60s, t, &on_broker);
  app.close();
  ASSERT_TRUE(checked.ok()) << checked.summary();

  rill::testing::driver_options options{.config = event_router::settings("driver", t)};
  options.partitions[t.input()] = 4;
  for (const auto& o : t.outputs()) options.partitions[o] = 4;
  rill::testing::test_driver driver(event_router::topology(t), options);
  for (const auto& in : inputs) {
    driver.pipe_raw(t.input(), -1, rill::to_bytes(in.key), rill::to_bytes(in.raw), {}, 1000);
  }
  // Per output topic and partition, the same records in the same order.
  auto from_driver = [&](const std::string& topic) {
    std::map<std::int32_t, std::vector<std::string>> out;
    for (const auto& r : driver.captured(topic))
      out[r.partition].push_back(std::string(rill::as_chars(*r.value)));
    return out;
  };
  auto serialize = [](const auto& value) {
    rill::bytes b;
    rill::default_serde<std::decay_t<decltype(value)>>().encode(value, b, {});
    return std::string(rill::as_chars(b));
  };
  std::size_t compared = 0;
  for (const auto& [topic, records] : on_broker.routed) {
    std::map<std::int32_t, std::vector<std::string>> broker;
    for (const auto& r : records) broker[r.partition].push_back(serialize(r.value));
    EXPECT_EQ(broker, from_driver(topic)) << topic;
    compared += records.size();
  }
  std::map<std::int32_t, std::vector<std::string>> rejected;
  for (const auto& r : on_broker.rejected) rejected[r.partition].push_back(serialize(r.value));
  EXPECT_EQ(rejected, from_driver(t.rejected()));
  std::map<std::int32_t, std::vector<std::string>> dead;
  for (const auto& r : on_broker.dead_letters)
    dead[r.partition].push_back(std::string(rill::as_chars(r.value)));
  EXPECT_EQ(dead, from_driver(t.dead_letter()));
  compared += on_broker.rejected.size() + on_broker.dead_letters.size();
  EXPECT_EQ(compared, inputs.size()) << "no duplicates in a run without failures";
}

TEST(event_router, two_processes_split_the_partitions) {
  cluster c;
  topics t{unique("two") + "-"};
  create_topics(c, t);
  const std::string app_id = unique("router-two");
  const std::string props = service_properties(c, app_id);
  auto inputs = event_router::generate(4000, 11);
  std::vector<std::string> args{"service", "--properties",   props,   "--application-id",
                                app_id,    "--topic-prefix", t.prefix};
  process a(service_binary(), args, "/tmp/" + app_id + "-a.log");
  process b(service_binary(), args, "/tmp/" + app_id + "-b.log");
  ASSERT_TRUE(a.started() && b.started());
  // Both members must be in the group before the data arrives, so both get a share.
  ASSERT_TRUE(wait_for(
      [&] {
        return read_file("/tmp/" + app_id + "-a.log").find("partitions assigned") !=
                   std::string::npos &&
               read_file("/tmp/" + app_id + "-b.log").find("partitions assigned") !=
                   std::string::npos;
      },
      60s));
  write_inputs(c, t, inputs);
  auto result = event_router::read_and_check(c.bootstrap(), c.props(), inputs, 60s, t);
  EXPECT_TRUE(result.ok()) << result.summary();
  a.kill(SIGTERM);
  b.kill(SIGTERM);
  EXPECT_EQ(a.wait(60s), 0);
  EXPECT_EQ(b.wait(60s), 0);
  // Each process ended up with two of the four partitions of the input topic.
  for (const char* name : {"-a.log", "-b.log"}) {
    std::string log = read_file("/tmp/" + app_id + name);
    auto last = log.find("partitions=", log.rfind("partitions assigned"));
    ASSERT_NE(last, std::string::npos) << log;
    std::string assignment = log.substr(last, log.find('\n', last) - last);
    EXPECT_EQ(std::count(assignment.begin(), assignment.end(), ','), 1)
        << name << ": " << assignment;
    EXPECT_NE(log.find("processed "), std::string::npos);
  }
}

TEST(event_router, a_killed_instance_loses_nothing) {
  cluster c;
  topics t{unique("kill") + "-"};
  create_topics(c, t);
  const std::string app_id = unique("router-kill");
  // The short session timeout also lets the survivor notice the dead member within seconds.
  const std::string props_path = service_properties(c, app_id);
  auto inputs = event_router::generate(20000, 13);
  std::vector<std::string> args{"service", "--properties",   props_path, "--application-id",
                                app_id,    "--topic-prefix", t.prefix};
  process a(service_binary(), args, "/tmp/" + app_id + "-a.log");
  process b(service_binary(), args, "/tmp/" + app_id + "-b.log");
  ASSERT_TRUE(wait_for(
      [&] {
        return read_file("/tmp/" + app_id + "-a.log").find("partitions assigned") !=
                   std::string::npos &&
               read_file("/tmp/" + app_id + "-b.log").find("partitions assigned") !=
                   std::string::npos;
      },
      60s));
  // Input keeps arriving for ~5 s; a dies without warning after ~1.5 s.
  std::thread writer([&] { write_inputs(c, t, inputs, 4000); });
  std::this_thread::sleep_for(1500ms);
  a.kill(SIGKILL);
  EXPECT_EQ(a.wait(10s), 128 + SIGKILL);
  writer.join();
  auto result = event_router::read_and_check(c.bootstrap(), c.props(), inputs, 90s, t);
  std::cout << "after SIGKILL: " << result.summary() << std::endl;
  RecordProperty("duplicates", static_cast<int>(result.duplicates));
  EXPECT_EQ(result.missing, 0u) << result.summary();
  EXPECT_EQ(result.misrouted, 0u);
  // The survivor took over every partition.
  std::string log = read_file("/tmp/" + app_id + "-b.log");
  EXPECT_NE(
      log.find(fmt::format("partitions={0}events-0,{0}events-1,{0}events-2,{0}events-3", t.prefix)),
      std::string::npos)
      << log;
  b.kill(SIGTERM);
  EXPECT_EQ(b.wait(60s), 0);
}

TEST(event_router, sigterm_commits_leaves_the_group_and_exits_0) {
  cluster c;
  topics t{unique("term") + "-"};
  create_topics(c, t);
  const std::string app_id = unique("router-term");
  // librdkafka's group debug log records the broker's answer to LeaveGroup.
  const std::string props = service_properties(c, app_id, "consumer.debug=cgrp\nlog.level=trace\n");
  auto inputs = event_router::generate(12000, 17);
  std::vector<std::string> args{"service", "--properties",   props,   "--application-id",
                                app_id,    "--topic-prefix", t.prefix};
  process first(service_binary(), args, "/tmp/" + app_id + "-1.log");
  ASSERT_TRUE(wait_for(
      [&] {
        return read_file("/tmp/" + app_id + "-1.log").find("partitions assigned") !=
               std::string::npos;
      },
      60s));
  std::thread writer([&] { write_inputs(c, t, inputs, 4000); });
  // Stop it in the middle of the input: once some output shows it is processing.
  rill::topic_reader<std::string, rill::bytes> seen(c.bootstrap(), t.routed("click"), c.props());
  ASSERT_TRUE(wait_for([&] { return !seen.read(1, 100ms).empty(); }, 60s));
  first.kill(SIGTERM);
  EXPECT_EQ(first.wait(60s), 0) << read_file("/tmp/" + app_id + "-1.log");
  writer.join();

  // Every record it processed is committed: the group's offsets say exactly as many.
  std::string log = read_file("/tmp/" + app_id + "-1.log");
  auto at = log.find("event_router: processed ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::int64_t processed = std::stoll(log.substr(at + 24));
  EXPECT_GT(processed, 0);
  EXPECT_LT(processed, static_cast<std::int64_t>(inputs.size())) << "stopped mid-input";
  EXPECT_EQ(committed_total(c, app_id, t.input()), processed);

  // It left the group on the way out, and the broker acknowledged it.
  EXPECT_NE(log.find("LeaveGroup response received"), std::string::npos);

  // A new instance resumes where the first stopped, so nothing is processed twice.
  process second(service_binary(), args, "/tmp/" + app_id + "-2.log");
  auto result = event_router::read_and_check(c.bootstrap(), c.props(), inputs, 60s, t);
  EXPECT_TRUE(result.ok()) << result.summary();
  EXPECT_EQ(result.duplicates, 0u) << "a clean shutdown commits what it processed";
  second.kill(SIGTERM);
  EXPECT_EQ(second.wait(60s), 0);
}
