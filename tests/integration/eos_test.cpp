// Exactly-once on the embedded broker. The mock accepts transactional calls but ignores
// read_committed, writes no markers and does not store transactional offsets, so it cannot
// show exactly-once (the simulated cluster's crash suite does); here it shows the protocol
// runs end to end and that injected EndTxn errors and producer fencing take the right path,
// with the expected log lines. Data: 1 000 records of ~10 bytes.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <rill/logging.hpp>
#include <rill/rill.hpp>

#include "harness.hpp"

using namespace rill::test;

namespace {

// Captures Rill's log lines for the test's duration.
struct log_capture {
  struct lines {
    std::mutex mutex;
    std::vector<std::string> all;
  };
  std::shared_ptr<lines> got = std::make_shared<lines>();
  log_capture() {
    rill::set_log_sink([got = got](rill::log_level, std::string_view line) {
      std::lock_guard lock(got->mutex);
      got->all.emplace_back(line);
    });
  }
  ~log_capture() { rill::set_log_sink({}); }
  bool contains(const std::string& text) const {
    std::lock_guard lock(got->mutex);
    for (const auto& line : got->all) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

struct eos_fixture {
  cluster c;
  std::string in = unique("eos-in");
  std::string out = unique("eos-out");
  eos_fixture() {
    c.create_topic(in, 2);
    c.create_topic(out, 2);
    rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
    for (int i = 0; i < 1000; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
    w.flush();
  }
  rill::topology topology() const {
    rill::streams_builder b;
    b.stream<std::string, std::string>(in)
        .map_values([](std::string v) { return v + "!"; })
        .to(out);
    return b.build();
  }
  rill::config config() const {
    rill::config cfg = c.app_config(unique("eos"));
    cfg.set("processing.guarantee", "exactly_once_v2");
    cfg.set("state.dir", "/tmp/" + unique("eos-state"));
    return cfg;
  }
  // Every input's effect arrived (the mock delivers aborted records too, so copies are possible).
  bool complete(std::chrono::milliseconds timeout) const {
    rill::topic_reader<std::string, std::string> reader(c.bootstrap(), out, c.props());
    std::set<std::string> seen;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen.size() < 1000 && std::chrono::steady_clock::now() < deadline) {
      for (auto& r : reader.read(10000, 200ms)) seen.insert(r.value);
    }
    return seen.size() == 1000;
  }
};

}  // namespace

TEST(eos, an_exactly_once_app_runs_end_to_end) {
  eos_fixture f;
  log_capture logs;
  rill::streams_app app(f.topology(), f.config());
  app.start();
  EXPECT_TRUE(f.complete(60s));
  EXPECT_TRUE(wait_for([&] { return app.counters().commits > 0; }, 30s));
  EXPECT_TRUE(logs.contains("exactly_once=true")) << "the thread's start line says so";
  EXPECT_TRUE(app.close());
}

TEST(eos, an_injected_end_txn_error_aborts_and_reprocesses) {
  eos_fixture f;
  if (!f.c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  log_capture logs;
  rill::streams_app app(f.topology(), f.config());
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  f.c.broker().push_request_errors(rill::kafka_api::end_txn, {EOS_END_TXN_ERROR});
  EXPECT_TRUE(f.complete(60s));
  EXPECT_TRUE(wait_for([&] { return logs.contains(EOS_END_TXN_LOG); }, 30s));
  EXPECT_GE(app.counters().rewinds, 1u);
  EXPECT_TRUE(app.close());
}

// PRODUCER_FENCED: a newer producer took this thread's transactional.id. Rill's ids name a
// process and a thread, not a task, so a task moving never causes it: another instance
// runs with the same process.id. The thread stops, saying so, rather than fencing the other
// in turn forever (tests/crash/two_holders_test.cpp has both running).
TEST(eos, a_producer_fenced_by_a_newer_holder_stops_naming_the_shared_process_id) {
  eos_fixture f;
  if (!f.c.embedded()) GTEST_SKIP() << "needs the embedded broker's fault injection";
  log_capture logs;
  rill::streams_app app(f.topology(), f.config());
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  f.c.broker().push_request_errors(rill::kafka_api::end_txn, {90});  // PRODUCER_FENCED
  EXPECT_TRUE(wait_for([&] { return app.state() == rill::app_state::error; }, 60s))
      << "state " << rill::to_string(app.state());
  EXPECT_TRUE(logs.contains("another instance runs with process.id"));
  app.close();
}
