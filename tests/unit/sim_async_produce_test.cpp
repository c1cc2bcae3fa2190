// The simulated cluster's producer is asynchronous as librdkafka's: send() only queues; a
// partition's batch reaches its leader at batch.num.messages, at flush, before a commit, or
// once linger.ms has passed on the logical clock; a record the leader refuses then is a
// delivery failure, returned by the next flush and, under a transaction, by
// commit_transaction (abortable), never by send.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/sim/cluster.hpp"

namespace {

using rill::kafka::error;
using rill::sim::cluster;
using rill::sim::fault_injector;
using rill::sim::point;
using verdict = fault_injector::verdict;

class async_produce : public ::testing::Test {
 protected:
  async_produce() {
    c.create_topic("t", 2);
    clients = c.clients("i0");
  }
  std::unique_ptr<rill::kafka::producer> producer(std::map<std::string, std::string> props) {
    return clients->make_producer(props);
  }
  static error send(rill::kafka::producer& p, std::int32_t partition, int value) {
    const rill::bytes v{static_cast<std::byte>(value)};
    return p.send("t", partition, std::nullopt, rill::bytes_view(v), {}, 0);
  }
  // Every record in the partition's log, transactional or not, as a read_uncommitted
  // consumer sees it: the values in offset order.
  std::vector<int> in_log(std::int32_t partition) {
    auto reader = clients->make_consumer({{"isolation.level", "read_uncommitted"}});
    EXPECT_FALSE(reader->assign({{{"t", partition}, 0}}));
    std::vector<rill::kafka::consumed_record> out;
    EXPECT_FALSE(reader->poll(std::chrono::milliseconds(0), 1000, out));
    std::vector<int> values;
    for (const auto& r : out) values.push_back(static_cast<int>((*r.raw.value)[0]));
    return values;
  }
  std::vector<int> committed_values() {
    std::vector<int> values;
    for (const auto& r : c.read_committed("t")) values.push_back(static_cast<int>((*r.value)[0]));
    return values;
  }
  std::shared_ptr<fault_injector> faults =
      std::make_shared<fault_injector>(1, fault_injector::settings{});  // only forced verdicts
  cluster c{faults};
  std::unique_ptr<rill::kafka::client_factory> clients;
};

TEST_F(async_produce, send_returns_before_anything_is_in_the_log_and_a_full_batch_goes) {
  auto p = producer({{"batch.num.messages", "4"}, {"linger.ms", "1000"}});
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(send(*p, 0, i));
  EXPECT_EQ(in_log(0), std::vector<int>{}) << "three records queued, none delivered";
  EXPECT_FALSE(p->delivered_offset({"t", 0})) << "nothing appended yet";
  ASSERT_FALSE(send(*p, 0, 3));
  EXPECT_EQ(in_log(0), (std::vector<int>{0, 1, 2, 3})) << "the fourth filled the batch";
  ASSERT_TRUE(p->delivered_offset({"t", 0}));
  EXPECT_EQ(p->delivered_offset({"t", 0})->value, 3);
}

TEST_F(async_produce, the_sims_default_batch_is_small_so_tests_see_full_and_partial_ones) {
  auto p = producer({{"linger.ms", "1000"}});
  for (int i = 0; i < 7; ++i) ASSERT_FALSE(send(*p, 0, i));
  EXPECT_TRUE(in_log(0).empty());
  ASSERT_FALSE(send(*p, 0, 7));
  EXPECT_EQ(in_log(0).size(), 8u);
}

TEST_F(async_produce, a_partial_batch_goes_at_flush) {
  auto p = producer({{"batch.num.messages", "4"}, {"linger.ms", "1000"}});
  ASSERT_FALSE(send(*p, 0, 1));
  ASSERT_FALSE(send(*p, 0, 2));
  p->poll();
  EXPECT_TRUE(in_log(0).empty()) << "linger.ms has not passed";
  EXPECT_FALSE(p->flush(std::chrono::seconds(1)));
  EXPECT_EQ(in_log(0), (std::vector<int>{1, 2}));
  EXPECT_EQ(p->delivered_offset({"t", 0})->value, 1);
}

TEST_F(async_produce, a_partial_batch_goes_once_linger_ms_has_passed_on_the_logical_clock) {
  auto p = producer({{"batch.num.messages", "100"}, {"linger.ms", "50"}});
  ASSERT_FALSE(send(*p, 1, 1));
  c.advance(30);
  ASSERT_FALSE(send(*p, 1, 2));  // same batch: it opened at the first record
  c.advance(19);
  p->poll();
  EXPECT_TRUE(in_log(1).empty()) << "49 ms after the batch opened";
  c.advance(1);
  p->poll();
  EXPECT_EQ(in_log(1), (std::vector<int>{1, 2})) << "50 ms after";
}

TEST_F(async_produce, batches_are_per_partition_and_each_partition_keeps_its_order) {
  auto p = producer({{"batch.num.messages", "3"}, {"linger.ms", "1000"}});
  for (auto [partition, value] : std::vector<std::pair<int, int>>{
           {0, 0}, {0, 1}, {1, 10}, {0, 2}, {1, 11}, {0, 3}, {0, 4}, {1, 12}, {0, 5}, {1, 13}}) {
    ASSERT_FALSE(send(*p, partition, value));
  }
  // Partition 0 filled two batches, partition 1 one; the rest waits.
  EXPECT_EQ(in_log(0), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(in_log(1), (std::vector<int>{10, 11, 12}));
  ASSERT_FALSE(p->flush(std::chrono::seconds(1)));
  EXPECT_EQ(in_log(1), (std::vector<int>{10, 11, 12, 13}));
}

TEST_F(async_produce, a_failure_at_delivery_is_returned_by_the_next_flush_not_by_send) {
  auto p = producer({{"batch.num.messages", "8"}, {"linger.ms", "1000"}});
  faults->force(point::produce, {verdict::none, verdict::fail, verdict::none});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(send(*p, 0, i)) << "send " << i << " only queues";
  EXPECT_EQ(c.stats().failed_deliveries, 0u) << "nothing reached the leader yet";
  const error e = p->flush(std::chrono::seconds(1));
  EXPECT_TRUE(e) << "the delivery report of the refused record";
  EXPECT_NE(e.message().find("injected failure of produce"), std::string::npos) << e.message();
  EXPECT_EQ(c.stats().failed_deliveries, 1u);
  EXPECT_EQ(in_log(0), (std::vector<int>{0, 2})) << "only what the leader appended";
  EXPECT_EQ(p->delivered_offset({"t", 0})->value, 1);
  EXPECT_FALSE(p->flush(std::chrono::seconds(1))) << "the first error since the last flush";
}

TEST_F(async_produce, a_failed_delivery_makes_the_transactions_commit_fail_abortably) {
  auto p = producer({{"transactional.id", "tx"}, {"linger.ms", "1000"}});
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  faults->force(point::produce, {verdict::none, verdict::fail, verdict::none});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(send(*p, 1, i)) << "send " << i << " only queues";
  const error commit = p->commit_transaction(std::chrono::seconds(1));
  EXPECT_EQ(commit.type(), error::kind::abortable) << commit.message();
  EXPECT_NE(commit.message().find("t-1"), std::string::npos) << commit.message();
  EXPECT_NE(commit.message().find("injected failure of produce"), std::string::npos)
      << commit.message();
  EXPECT_EQ(in_log(1), std::vector<int>{0}) << "appended up to the refusal, nothing after";
  EXPECT_EQ(send(*p, 1, 3).type(), error::kind::abortable) << "nothing more until the abort";
  EXPECT_EQ(p->commit_transaction(std::chrono::seconds(1)).type(), error::kind::abortable);
  ASSERT_FALSE(p->abort_transaction(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send(*p, 1, 4));
  ASSERT_FALSE(p->commit_transaction(std::chrono::seconds(1)));
  EXPECT_EQ(committed_values(), std::vector<int>{4}) << "nothing of the aborted transaction";
  EXPECT_EQ(c.stats().committed_transactions, 1u);
  EXPECT_EQ(c.stats().aborted_transactions, 1u);
}

TEST_F(async_produce, a_delivery_failed_at_linger_makes_the_next_send_fail_abortably) {
  auto p = producer({{"transactional.id", "tx"}, {"linger.ms", "5"}});
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  faults->force(point::produce, {verdict::fail});
  ASSERT_FALSE(send(*p, 0, 1));
  c.advance(5);
  p->poll();  // the batch goes; the leader refuses the record
  EXPECT_EQ(c.stats().failed_deliveries, 1u);
  const error e = send(*p, 0, 2);
  EXPECT_EQ(e.type(), error::kind::abortable) << e.message();
  EXPECT_EQ(p->commit_transaction(std::chrono::seconds(1)).type(), error::kind::abortable);
  ASSERT_FALSE(p->abort_transaction(std::chrono::seconds(1)));
  EXPECT_TRUE(in_log(0).empty());
  EXPECT_TRUE(c.read_committed("t").empty());
}

TEST_F(async_produce, a_late_record_holds_back_its_partition_and_keeps_its_order) {
  auto p = producer({{"batch.num.messages", "3"}, {"linger.ms", "1000"}});
  faults->force(point::produce, {verdict::none, verdict::late, verdict::none});
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(send(*p, 0, i));
  EXPECT_EQ(in_log(0), std::vector<int>{0}) << "the late one and the one behind it are held";
  ASSERT_FALSE(p->flush(std::chrono::seconds(1)));
  EXPECT_EQ(in_log(0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(c.stats().late_appended, 2u);
}

TEST_F(async_produce, a_record_held_back_as_its_batch_arrives_at_commit_is_committed_with_it) {
  auto p = producer({{"transactional.id", "tx"}, {"linger.ms", "1000"}});
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  faults->force(point::produce, {verdict::late, verdict::none});
  ASSERT_FALSE(send(*p, 0, 1));
  ASSERT_FALSE(send(*p, 0, 2));
  ASSERT_FALSE(p->commit_transaction(std::chrono::seconds(1)));
  EXPECT_EQ(committed_values(), (std::vector<int>{1, 2})) << "a commit waits for every record";
  EXPECT_EQ(c.stats().late_appended, 2u);
}

TEST_F(async_produce, a_lost_answer_is_a_duplicate_refused_by_its_sequence_at_delivery) {
  auto p = producer({{"batch.num.messages", "2"}, {"linger.ms", "1000"}});
  faults->force(point::produce, {verdict::lose_answer, verdict::none});
  ASSERT_FALSE(send(*p, 0, 1));
  ASSERT_FALSE(send(*p, 0, 2));
  EXPECT_FALSE(p->flush(std::chrono::seconds(1)));
  EXPECT_EQ(c.stats().duplicates_refused, 1u);
  EXPECT_EQ(in_log(0), (std::vector<int>{1, 2})) << "appended once";
}

TEST_F(async_produce, a_queued_record_dies_with_a_crashed_producer) {
  auto p = producer({{"transactional.id", "tx"}, {"linger.ms", "1000"}});
  ASSERT_FALSE(p->init_transactions(std::chrono::seconds(1)));
  ASSERT_FALSE(p->begin_transaction());
  ASSERT_FALSE(send(*p, 0, 1));
  faults->force(point::produce, {verdict::crash_after});
  EXPECT_THROW((void)send(*p, 0, 2), rill::sim::crash);
  p.reset();  // the crash: the producer goes with its queue
  EXPECT_TRUE(in_log(0).empty()) << "never appended";
  auto successor = producer({{"transactional.id", "tx"}});
  ASSERT_FALSE(successor->init_transactions(std::chrono::seconds(1)));
  EXPECT_TRUE(in_log(0).empty());
  EXPECT_TRUE(c.read_committed("t").empty());
}

}  // namespace
