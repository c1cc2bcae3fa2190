// When a consumer wakes librdkafka's fetchers: once after its queue has been full, as it
// drains, and never while records keep flowing below the limits.
#include <gtest/gtest.h>

#include "src/kafka/fetch_waker.hpp"

using rill::kafka::fetch_waker;

TEST(fetch_waker, wakes_once_when_a_full_queue_drains_below_a_quarter) {
  fetch_waker w(100'000, 64 << 20);
  w.polled(1000, 8000);  // 8-byte values: the record limit comes first
  EXPECT_FALSE(w.should_wake(0));
  EXPECT_FALSE(w.should_wake(130'000));  // a fetch filled the queue; the fetcher may sleep
  EXPECT_FALSE(w.should_wake(60'000));
  EXPECT_FALSE(w.should_wake(25'000));
  EXPECT_TRUE(w.should_wake(24'000));
  EXPECT_FALSE(w.should_wake(10'000));  // woken once; the queue must fill again first
  EXPECT_FALSE(w.should_wake(0));
  EXPECT_EQ(w.wakes(), 1u);
  EXPECT_FALSE(w.should_wake(50'000));
  EXPECT_TRUE(w.should_wake(1'000));
  EXPECT_EQ(w.wakes(), 2u);
}

TEST(fetch_waker, never_wakes_a_queue_that_stays_below_half_of_both_limits) {
  fetch_waker w(100'000, 64 << 20);
  w.polled(1000, 100'000);
  for (std::size_t queued : {0, 20'000, 49'000, 3'000, 0, 40'000, 0})
    EXPECT_FALSE(w.should_wake(queued)) << queued;
  EXPECT_EQ(w.wakes(), 0u);
}

TEST(fetch_waker, counts_the_byte_limit_with_the_mean_value_size) {
  fetch_waker w(100'000, 64 << 20);
  w.polled(10, 10 * 4096);             // 4 KiB values: 64 MiB is 16 384 records
  EXPECT_FALSE(w.should_wake(9'000));  // 36 MiB queued: over half the bytes
  EXPECT_FALSE(w.should_wake(5'000));  // 20 MiB: still over a quarter
  EXPECT_TRUE(w.should_wake(3'000));   // 12 MiB
}
