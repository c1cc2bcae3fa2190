// The simulated cluster is as strict as a real one where the runtime could otherwise get
// away with a mistake: transactional calls out of the state machine's order fail as
// librdkafka's do (RD_KAFKA_RESP_ERR__STATE), a fenced producer's every call repeats the
// fence, and groups evict members by time (session.timeout.ms, max.poll.interval.ms), after
// which their commits are refused for their generation.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "src/sim/cluster.hpp"

namespace {

using rill::kafka::error;
using rill::sim::cluster;

struct no_listener final : rill::kafka::rebalance_listener {
  void on_assigned(const std::vector<rill::kafka::topic_partition>&) override {}
  void on_revoked(const std::vector<rill::kafka::topic_partition>&) override {}
  void on_lost(const std::vector<rill::kafka::topic_partition>&) override {}
};

class transactions : public ::testing::Test {
 protected:
  transactions() {
    c.create_topic("t", 1);
    clients = c.clients("i0");
    p = clients->make_producer({{"transactional.id", "app-p-1"}});
  }
  error send() {
    const rill::bytes v{std::byte{1}};
    return p->send("t", 0, std::nullopt, rill::bytes_view(v), {}, 0);
  }
  static void expect_state_error(const error& e, const std::string& call) {
    EXPECT_EQ(e.code(), error::bad_state) << call << ": " << e.message();
    EXPECT_EQ(e.type(), error::kind::fatal) << call;
    EXPECT_NE(e.message().find("Operation not valid in state"), std::string::npos) << e.message();
  }
  cluster c;
  std::unique_ptr<rill::kafka::client_factory> clients;
  std::unique_ptr<rill::kafka::producer> p;
};

TEST_F(transactions, begin_before_init_transactions_is_a_state_error) {
  expect_state_error(p->begin_transaction(), "begin_transaction");
}

TEST_F(transactions, init_transactions_twice_is_a_state_error) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  expect_state_error(p->init_transactions(std::chrono::seconds(1)), "init_transactions");
}

TEST_F(transactions, send_before_begin_transaction_is_a_state_error_and_appends_nothing) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  expect_state_error(send(), "produce");
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send());
  ASSERT_FALSE(p->commit_transaction(std::chrono::seconds(1)));
  EXPECT_EQ(c.read_committed("t").size(), 1u) << "only the record sent inside the transaction";
}

TEST_F(transactions, begin_twice_is_a_state_error) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  expect_state_error(p->begin_transaction(), "begin_transaction");
}

TEST_F(transactions, commit_without_begin_is_a_state_error) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  expect_state_error(p->commit_transaction(std::chrono::seconds(1)), "commit_transaction");
}

TEST_F(transactions, commit_after_the_commit_is_a_state_error_and_commits_nothing_twice) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send());
  ASSERT_FALSE(p->commit_transaction(std::chrono::seconds(1)));
  expect_state_error(p->commit_transaction(std::chrono::seconds(1)), "commit_transaction");
  EXPECT_EQ(c.stats().committed_transactions, 1u);
}

TEST_F(transactions, abort_without_begin_is_a_state_error) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  expect_state_error(p->abort_transaction(std::chrono::seconds(1)), "abort_transaction");
}

TEST_F(transactions, send_offsets_without_begin_is_a_state_error) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  auto consumer = clients->make_consumer({{"group.id", "g"}});
  no_listener l;
  ASSERT_FALSE(consumer->subscribe({"t"}, l));
  auto meta = consumer->metadata();
  expect_state_error(
      p->send_offsets_to_transaction({{{"t", 0}, 1}}, *meta, std::chrono::seconds(1)),
      "send_offsets_to_transaction");
}

TEST_F(transactions, a_producer_fenced_by_a_newer_one_gets_the_fence_from_every_call) {
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send());
  auto newer = clients->make_producer({{"transactional.id", "app-p-1"}});
  ASSERT_FALSE(newer->init_transactions(std::chrono::seconds(1)));
  // The record is only queued; its leader, which knows only that the epoch is old, refuses
  // it when it arrives (the flush's delivery report); the coordinator knows a newer producer
  // holds the transactional.id.
  EXPECT_FALSE(send()) << "queued";
  const error produce = p->flush(std::chrono::seconds(1));
  EXPECT_EQ(produce.code(), error::invalid_producer_epoch) << produce.message();
  const error commit = p->commit_transaction(std::chrono::seconds(1));
  EXPECT_EQ(commit.type(), error::kind::producer_fenced) << commit.message();
  EXPECT_EQ(commit.code(), error::producer_fenced);
  const error abort = p->abort_transaction(std::chrono::seconds(1));
  EXPECT_EQ(abort.type(), error::kind::producer_fenced) << "fatal: repeated " << abort.message();
  EXPECT_EQ(p->begin_transaction().type(), error::kind::producer_fenced);
  EXPECT_EQ(c.stats().committed_transactions, 0u);
}

TEST_F(transactions, a_producer_whose_transaction_timed_out_gets_an_invalid_epoch_and_may_abort) {
  p = clients->make_producer({{"transactional.id", "app-p-1"}, {"transaction.timeout.ms", "100"}});
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send());
  c.advance(200);
  ASSERT_EQ(c.stats().timed_out_transactions, 1u);
  const error commit = p->commit_transaction(std::chrono::seconds(1));
  EXPECT_EQ(commit.type(), error::kind::task_migrated) << commit.message();
  EXPECT_EQ(commit.code(), error::invalid_producer_epoch);
  EXPECT_FALSE(p->abort_transaction(std::chrono::seconds(1))) << "KIP-360: it goes on";
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send());
  EXPECT_FALSE(p->commit_transaction(std::chrono::seconds(1)));
  EXPECT_EQ(c.read_committed("t").size(), 1u) << "only the second transaction's record";
}

// Two members of one group; `a` is evicted, `b` polls (which is when the group notices).
class groups : public ::testing::Test {
 protected:
  groups() { c.create_topic("t", 2); }
  std::unique_ptr<rill::kafka::consumer> member(const std::string& who, const std::string& session,
                                                const std::string& max_poll) {
    factories.push_back(c.clients(who));
    auto m = factories.back()->make_consumer(
        {{"group.id", "g"}, {"session.timeout.ms", session}, {"max.poll.interval.ms", max_poll}});
    EXPECT_FALSE(m->subscribe({"t"}, listener));
    return m;
  }
  void poll(rill::kafka::consumer& m) {
    std::vector<rill::kafka::consumed_record> out;
    EXPECT_FALSE(m.poll(std::chrono::milliseconds(0), 10, out));
  }
  cluster c;
  no_listener listener;
  std::vector<std::unique_ptr<rill::kafka::client_factory>> factories;
};

TEST_F(groups, a_member_that_does_not_poll_within_max_poll_interval_is_evicted_and_fenced) {
  auto a = member("a", "10000", "1000");
  auto b = member("b", "10000", "1000");
  for (int k = 0; k < 3; ++k) {
    poll(*a);
    poll(*b);
  }
  ASSERT_FALSE(a->commit({{{"t", 0}, 0}})) << "a member of the current generation";
  for (int k = 0; k < 12; ++k) {  // 1 200 ms: a keeps its session (heartbeats), never polls
    c.advance(100);
    std::vector<rill::kafka::partition_offset> offsets{{{"t", 0}, -1}};
    ASSERT_FALSE(a->committed(offsets, std::chrono::seconds(1)));
    poll(*b);
  }
  EXPECT_EQ(c.stats().evicted_for_not_polling, 1u);
  EXPECT_EQ(c.stats().evicted_members, 1u);
  const error e = a->commit({{{"t", 0}, 1}});
  EXPECT_EQ(e.type(), error::kind::task_migrated) << "refused for its generation";
  EXPECT_NE(e.message().find("generation"), std::string::npos) << e.message();
}

TEST_F(groups, a_silent_member_is_evicted_after_its_session_timeout) {
  auto a = member("a", "300", "300000");
  auto b = member("b", "300", "300000");
  for (int k = 0; k < 3; ++k) {
    poll(*a);
    poll(*b);
  }
  for (int k = 0; k < 3; ++k) {  // 300 ms: not past the session yet
    c.advance(100);
    poll(*b);
  }
  EXPECT_EQ(c.stats().evicted_members, 0u);
  c.advance(100);
  poll(*b);
  EXPECT_EQ(c.stats().evicted_members, 1u);
  EXPECT_EQ(c.stats().evicted_for_not_polling, 0u) << "evicted for its session";
  EXPECT_EQ(a->commit({{{"t", 0}, 1}}).type(), error::kind::task_migrated);
}

}  // namespace
