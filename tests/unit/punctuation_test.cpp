// The punctuation queue: due order, catching up once, cancelling, rescheduling.
#include <gtest/gtest.h>

#include "src/runtime/punctuation.hpp"

namespace {
struct dummy_node : rill::detail::node {
  dummy_node() : node("n") {}
};
const rill::runtime::punctuation_queue::invoker direct =
    [](rill::detail::node&, const std::function<void(rill::timestamp_ms)>& fn,
       rill::timestamp_ms now) { fn(now); };
}  // namespace

TEST(punctuation_queue, fires_once_per_interval_and_skips_missed_ones) {
  rill::runtime::punctuation_queue q;
  dummy_node n;
  std::vector<rill::timestamp_ms> fired;
  q.schedule(
      100, 100, [&](rill::timestamp_ms t) { fired.push_back(t); }, n);
  EXPECT_FALSE(q.run_due(99, direct));
  EXPECT_TRUE(q.run_due(100, direct));
  EXPECT_FALSE(q.run_due(150, direct));
  EXPECT_TRUE(q.run_due(450, direct));  // missed 200, 300, 400: fires once
  EXPECT_EQ(q.next_due(), 500);
  EXPECT_EQ(fired, (std::vector<rill::timestamp_ms>{100, 450}));
}

TEST(punctuation_queue, earliest_first_and_cancel) {
  rill::runtime::punctuation_queue q;
  dummy_node n;
  std::vector<std::string> order;
  auto slow = q.schedule(
      50, 50, [&](rill::timestamp_ms) { order.push_back("slow"); }, n);
  q.schedule(
      20, 30, [&](rill::timestamp_ms) { order.push_back("fast"); }, n);
  q.run_due(50, direct);
  EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
  slow.cancel();
  order.clear();
  q.run_due(200, direct);
  EXPECT_EQ(order, (std::vector<std::string>{"fast"}));
}

TEST(punctuation_queue, callbacks_may_schedule_and_cancel_themselves) {
  rill::runtime::punctuation_queue q;
  dummy_node n;
  int fired = 0;
  rill::cancellable self;
  self = q.schedule(
      10, 10,
      [&](rill::timestamp_ms) {
        ++fired;
        self.cancel();
        q.schedule(
            1000, 10, [&](rill::timestamp_ms) { fired += 100; }, n);
      },
      n);
  q.run_due(10, direct);
  q.run_due(500, direct);
  EXPECT_EQ(fired, 1);
  q.run_due(1000, direct);
  EXPECT_EQ(fired, 101);
}
