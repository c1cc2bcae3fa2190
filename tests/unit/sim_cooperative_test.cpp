// The simulated cluster's cooperative rebalancing (KIP-429), as a consumer with
// partition.assignment.strategy=cooperative-sticky sees it: members keep their partitions
// through a rebalance and go on committing them; a partition that moves is revoked by its
// owner alone, and reaches its new member only in the rebalance that follows, so no two
// members ever hold it at once; partition p of every subscribed topic stays on one member;
// a group refuses a member asking for the other protocol.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "src/sim/cluster.hpp"

namespace {

using rill::kafka::error;
using rill::kafka::topic_partition;
using rill::sim::cluster;

// Records what a consumer was told, and checks that no partition is held by two members.
struct ownership {
  std::map<topic_partition, std::string> holder;
  std::vector<std::string> overlaps;
};

struct recording_listener final : rill::kafka::rebalance_listener {
  recording_listener(std::string name, ownership& o) : name(std::move(name)), own(o) {}
  void on_assigned(const std::vector<topic_partition>& parts) override {
    ++assigned_calls;
    for (const auto& tp : parts) {
      if (auto it = own.holder.find(tp); it != own.holder.end() && it->second != name)
        own.overlaps.push_back(tp.to_string() + " given to " + name + " while " + it->second +
                               " holds it");
      own.holder[tp] = name;
      held.insert(tp);
    }
  }
  void on_revoked(const std::vector<topic_partition>& parts) override {
    revoked.insert(revoked.end(), parts.begin(), parts.end());
    for (const auto& tp : parts) {
      own.holder.erase(tp);
      held.erase(tp);
    }
  }
  void on_lost(const std::vector<topic_partition>& parts) override {
    lost.insert(lost.end(), parts.begin(), parts.end());
    for (const auto& tp : parts) {
      own.holder.erase(tp);
      held.erase(tp);
    }
  }
  std::string name;
  ownership& own;
  std::set<topic_partition> held;
  std::vector<topic_partition> revoked;
  std::vector<topic_partition> lost;
  int assigned_calls = 0;
};

const std::map<std::string, std::string> cooperative_props = {
    {"group.id", "g"}, {"partition.assignment.strategy", "cooperative-sticky"}};

class cooperative : public ::testing::Test {
 protected:
  struct member {
    std::unique_ptr<rill::kafka::client_factory> clients;
    std::unique_ptr<rill::kafka::consumer> consumer;
    std::unique_ptr<recording_listener> listener;
  };
  member& join(const std::string& name, const std::vector<std::string>& topics) {
    auto m = std::make_unique<member>();
    m->clients = c.clients(name);
    m->consumer = m->clients->make_consumer(cooperative_props);
    m->listener = std::make_unique<recording_listener>(name, own);
    EXPECT_FALSE(m->consumer->subscribe(topics, *m->listener));
    members.push_back(std::move(m));
    return *members.back();
  }
  void poll_all(int rounds) {
    std::vector<rill::kafka::consumed_record> out;
    for (int r = 0; r < rounds; ++r) {
      for (auto& m : members) {
        out.clear();
        ASSERT_FALSE(m->consumer->poll(std::chrono::milliseconds(0), 10, out));
      }
    }
  }
  cluster c;
  ownership own;
  std::vector<std::unique_ptr<member>> members;
};

TEST_F(cooperative, a_joining_member_takes_partitions_only_after_their_owner_revoked_them) {
  c.create_topic("t", 4);
  member& first = join("a", {"t"});
  poll_all(2);
  ASSERT_EQ(first.listener->held.size(), 4u) << "alone in the group, it holds every partition";
  const auto rebalances_before = c.stats().rebalances;

  member& second = join("b", {"t"});
  poll_all(6);

  EXPECT_EQ(own.overlaps, std::vector<std::string>{}) << "no partition had two holders at once";
  EXPECT_EQ(first.listener->held.size(), 2u);
  EXPECT_EQ(second.listener->held.size(), 2u);
  EXPECT_EQ(first.listener->revoked.size(), 2u)
      << "the first member revoked only the two partitions that moved";
  EXPECT_TRUE(second.listener->revoked.empty());
  EXPECT_EQ(c.stats().rebalances - rebalances_before, 2u)
      << "one rebalance takes the partitions away, the next gives them to the new member";
  EXPECT_EQ(c.stats().kept_through_rebalance, 4u) << "the first member's two, in both rebalances";
  EXPECT_EQ(c.stats().revoked_incrementally, 2u);
}

TEST_F(cooperative, a_member_keeps_committing_its_partitions_while_the_group_rebalances) {
  c.create_topic("t", 2);
  member& first = join("a", {"t"});
  poll_all(2);
  ASSERT_EQ(first.listener->held.size(), 2u);
  join("b", {"t"});
  std::vector<rill::kafka::consumed_record> out;
  ASSERT_FALSE(first.consumer->poll(std::chrono::milliseconds(0), 10, out));  // rejoins
  // The group waits for the new member; the first still holds both partitions and commits.
  EXPECT_FALSE(first.consumer->commit({{{"t", 0}, 5}, {{"t", 1}, 7}}));
  poll_all(6);
  std::vector<rill::kafka::partition_offset> committed{{{"t", 0}, -1}, {{"t", 1}, -1}};
  ASSERT_FALSE(first.consumer->committed(committed, std::chrono::milliseconds(0)));
  EXPECT_EQ(committed[0].offset, 5);
  EXPECT_EQ(committed[1].offset, 7);
  EXPECT_EQ(c.stats().fenced_offset_commits, 0u);
  EXPECT_EQ(first.listener->held.size(), 1u);
}

TEST_F(cooperative, partition_p_of_every_topic_goes_to_one_member) {
  c.create_topic("orders", 4);
  c.create_topic("payments", 4);
  join("a", {"orders", "payments"});
  join("b", {"orders", "payments"});
  poll_all(2);
  join("c", {"orders", "payments"});
  poll_all(8);
  ASSERT_EQ(own.holder.size(), 8u) << "every partition of both topics is held";
  EXPECT_EQ(own.overlaps, std::vector<std::string>{});
  for (std::int32_t p = 0; p < 4; ++p)
    EXPECT_EQ(own.holder.at({"orders", p}), own.holder.at({"payments", p})) << "partition " << p;
  std::map<std::string, int> per_member;
  for (const auto& [tp, who] : own.holder) ++per_member[who];
  EXPECT_EQ(per_member.size(), 3u) << "the third member got partitions too";
}

TEST_F(cooperative, a_member_evicted_leaves_its_partitions_to_the_rest_without_revoking_theirs) {
  c.create_topic("t", 4);
  member& first = join("a", {"t"});
  member& second = join("b", {"t"});
  poll_all(6);
  ASSERT_EQ(first.listener->held.size(), 2u);
  ASSERT_EQ(second.listener->held.size(), 2u);
  // b stops polling; its session lapses while a goes on.
  std::vector<rill::kafka::consumed_record> out;
  for (int i = 0; i < 10; ++i) {
    c.advance(1000);
    out.clear();
    ASSERT_FALSE(first.consumer->poll(std::chrono::milliseconds(0), 10, out));
  }
  EXPECT_EQ(c.stats().evicted_members, 1u);
  EXPECT_EQ(first.listener->held.size(), 4u) << "the survivor took the evicted member's partitions";
  EXPECT_TRUE(first.listener->revoked.empty()) << "and revoked none of its own";
}

TEST_F(cooperative, a_member_asking_for_the_eager_protocol_is_refused) {
  c.create_topic("t", 2);
  join("a", {"t"});
  poll_all(1);
  auto clients = c.clients("eager");
  auto consumer = clients->make_consumer({{"group.id", "g"}});
  ownership other;
  recording_listener listener("eager", other);
  const error e = consumer->subscribe({"t"}, listener);
  EXPECT_EQ(e.type(), error::kind::fatal);
  EXPECT_NE(e.message().find("cooperative"), std::string::npos) << e.message();
}

}  // namespace
