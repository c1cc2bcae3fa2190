// The stream task's record queue: first in, first out across wrap-around and growth, every
// element destroyed exactly once (dropped, popped, cleared or left at destruction).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "src/runtime/ring_buffer.hpp"

namespace {

using rill::runtime::ring_buffer;

// Counts live instances, so a leak or a double destruction shows.
struct tracked {
  static inline int live = 0;
  std::unique_ptr<std::string> text;
  tracked() { ++live; }
  explicit tracked(std::string s) : text(std::make_unique<std::string>(std::move(s))) { ++live; }
  tracked(tracked&& o) noexcept : text(std::move(o.text)) { ++live; }
  tracked& operator=(tracked&&) = delete;
  ~tracked() { --live; }
};

TEST(ring_buffer, keeps_order_through_wrap_around_and_growth) {
  {
    ring_buffer<tracked> q;
    int next_in = 0, next_out = 0;
    // Interleaved pushes and drops wrap the head around before each growth.
    for (int round = 0; round < 6; ++round) {
      for (int i = 0; i < 10 + round * 7; ++i) q.push_back(tracked(std::to_string(next_in++)));
      for (int i = 0; i < 5 + round * 3; ++i) {
        ASSERT_EQ(*q.front().text, std::to_string(next_out++));
        if (i % 2 == 0) {
          q.drop_front();
        } else {
          EXPECT_EQ(*q.pop_front().text, std::to_string(next_out - 1));
        }
      }
    }
    EXPECT_EQ(q.size(), static_cast<std::size_t>(next_in - next_out));
    EXPECT_EQ(tracked::live, next_in - next_out) << "every element dropped or popped is gone";
    while (!q.empty()) {
      ASSERT_EQ(*q.front().text, std::to_string(next_out++));
      q.drop_front();
    }
    EXPECT_EQ(tracked::live, 0);
    for (int i = 0; i < 40; ++i) q.push_back(tracked("left"));
    EXPECT_EQ(tracked::live, 40);
  }
  EXPECT_EQ(tracked::live, 0) << "the elements left in a destroyed queue are destroyed with it";
}

TEST(ring_buffer, clear_and_move_leave_nothing_behind) {
  ring_buffer<tracked> a;
  for (int i = 0; i < 20; ++i) a.push_back(tracked(std::to_string(i)));
  ring_buffer<tracked> b(std::move(a));
  EXPECT_TRUE(a.empty());
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(*b.front().text, "0");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(tracked::live, 0);
  b.push_back(tracked("again"));
  EXPECT_EQ(*b.front().text, "again");
  b.clear();
}

}  // namespace
