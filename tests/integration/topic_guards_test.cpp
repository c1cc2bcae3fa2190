// Topics that are not what the app expects, on the embedded broker: an internal topic that
// exists with the wrong partition count and a sink topic that does not exist fail start();
// a topic chosen per record that does not exist stops the thread at once, naming it; and the
// producer tells "the topic does not exist" from "the cluster cannot be reached". Data: a
// handful of records.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <rill/rill.hpp>

#include "harness.hpp"
#include "src/runtime/cluster.hpp"

using namespace rill::test;

namespace {

std::string start_error(rill::streams_app& app) {
  try {
    app.start();
  } catch (const rill::error& e) {
    return e.what();
  }
  return "start() did not throw";
}

}  // namespace

TEST(topic_guards, an_internal_topic_with_the_wrong_partition_count_fails_start) {
  cluster c;
  const std::string in = unique("guard-counted");
  const std::string app_id = unique("guard-count");
  c.create_topic(in, 2);
  const std::string changelog = app_id + "-counts-changelog";
  c.create_topic(changelog, 3);  // left by an earlier run when the input had 3 partitions
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).group_by_key().count(rill::named("counts"));
  rill::streams_app app(b.build(), c.app_config(app_id));
  const std::string why = start_error(app);
  EXPECT_NE(why.find("internal topic '" + changelog +
                     "' has 3 partitions but the topology needs 2; delete it or reset the "
                     "application (rill reset)"),
            std::string::npos)
      << why;
  EXPECT_EQ(app.state(), rill::app_state::created) << "no thread was started";
}

TEST(topic_guards, a_missing_sink_topic_fails_start) {
  cluster c;
  const std::string in = unique("guard-in");
  const std::string out = unique("guard-out");
  c.create_topic(in, 1);
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).to(out);
  rill::streams_app app(b.build(), c.app_config(unique("guard-sink")));
  const std::string why = start_error(app);
  EXPECT_NE(why.find("sink topic(s) " + out + " do not exist on " + c.bootstrap() +
                     "; create them before starting the app"),
            std::string::npos)
      << why;
}

TEST(topic_guards, a_topic_chosen_per_record_that_does_not_exist_stops_the_thread) {
  cluster c;
  const std::string in = unique("guard-routed-in");
  const std::string there = unique("guard-there");
  const std::string nowhere = unique("guard-nowhere");
  c.create_topic(in, 1);
  c.create_topic(there, 1);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  w.send(in, there, "v1");
  w.send(in, nowhere, "v2");
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).to(
      [](const std::string& k, const std::string&, const rill::record_context&) { return k; });
  rill::streams_app app(b.build(), c.app_config(unique("guard-routed")));
  std::mutex m;
  std::string why;
  app.set_uncaught_exception_handler([&](const std::exception& e) {
    std::lock_guard lock(m);
    why = e.what();
    return rill::uncaught_response::shutdown_client;
  });
  app.start();
  // Well inside task.timeout.ms (5 minutes), which a retriable error would be retried for.
  ASSERT_TRUE(wait_for([&] { return app.state() == rill::app_state::error; }, 60s))
      << "the thread did not stop; state " << rill::to_string(app.state());
  std::lock_guard lock(m);
  EXPECT_NE(why.find("cannot send to topic '" + nowhere + "': it does not exist; create it"),
            std::string::npos)
      << why;
  app.close();
}

TEST(topic_guards, the_producer_tells_a_missing_topic_from_an_unreachable_cluster) {
  cluster c;
  if (!c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  const std::string there = unique("guard-exists");
  c.create_topic(there, 3);
  auto conn = rill::runtime::connect_cluster(c.bootstrap(), "");
  auto producer = conn.clients->make_producer(
      {{"bootstrap.servers", c.bootstrap()}, {"allow.auto.create.topics", "false"}});
  std::int32_t n = 0;
  EXPECT_FALSE(producer->partition_count(there, n, 10s));
  EXPECT_EQ(n, 3);
  rill::kafka::error missing = producer->partition_count(unique("guard-absent"), n, 10s);
  EXPECT_EQ(missing.type(), rill::kafka::error::kind::fatal) << missing.message();
  EXPECT_EQ(missing.code(), rill::kafka::error::unknown_topic) << missing.message();
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos) << missing.message();

  c.broker().set_broker_down();
  rill::kafka::error unreachable = producer->partition_count(there, n, 2s);
  c.broker().set_broker_up();
  EXPECT_EQ(unreachable.type(), rill::kafka::error::kind::retriable) << unreachable.message();
}
