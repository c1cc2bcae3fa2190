// Store ranges compose with std::ranges and with range-v3, and a flat_map_values lambda may
// return a range-v3 view: Rill's library code needs neither (docs/design-choices.md), a
// user's code may use both.
#include <gtest/gtest.h>

#include <algorithm>
#include <ranges>
#include <string>
#include <vector>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/split.hpp>
#include <range/v3/view/transform.hpp>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "state/memory_store.hpp"

namespace {

// What a store's facade needs besides the bytes: here, nothing cached and no changelog.
struct plain_access final : rill::detail::store_access {
  rill::state::memory_store store{"s"};
  std::string topic = "s-changelog";
  rill::detail::kv_store& bytes_store() override { return store; }
  bool cached() const override { return false; }
  void set_flush_listener(rill::detail::cache_flush_listener*) override {}
  const std::string& changelog_topic() const override { return topic; }
};

using counts = rill::key_value_store<std::string, std::int64_t>;

counts filled(plain_access& access) {
  counts c(access, rill::default_serde<std::string>(), rill::default_serde<std::int64_t>());
  for (auto [k, v] : std::vector<std::pair<std::string, std::int64_t>>{
           {"ant", 3}, {"bee", 12}, {"cat", 7}, {"dog", 20}, {"eel", 1}})
    c.put(k, v);
  return c;
}

}  // namespace

static_assert(std::ranges::input_range<counts::entries>);

TEST(store_ranges, compose_with_std_views) {
  plain_access access;
  counts c = filled(access);
  std::vector<std::string> big;
  for (const std::string& k : c.all() |
                                  std::views::filter([](const auto& e) { return e.value >= 7; }) |
                                  std::views::transform([](const auto& e) { return e.key; }))
    big.push_back(k);
  EXPECT_EQ(big, (std::vector<std::string>{"bee", "cat", "dog"}));
  auto r = c.range("b", "d");
  EXPECT_EQ(std::ranges::count_if(r, [](const auto& e) { return e.value > 10; }), 1);
}

TEST(store_ranges, compose_with_range_v3_pipelines) {
  plain_access access;
  counts c = filled(access);
  auto all = c.all();
  const auto small = all | ranges::views::filter([](const auto& e) { return e.value < 7; }) |
                     ranges::views::transform([](const auto& e) { return e.key; }) |
                     ranges::to<std::vector<std::string>>();
  EXPECT_EQ(small, (std::vector<std::string>{"ant", "eel"}));
}

TEST(store_ranges, flat_map_values_takes_a_range_v3_view) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("lines")
      .flat_map_values([](const std::string& line) {
        return line | ranges::views::split(' ') |
               ranges::views::transform([](auto&& word) { return ranges::to<std::string>(word); }) |
               ranges::views::filter([](const std::string& w) { return !w.empty(); });
      })
      .to("words");
  rill::testing::test_driver driver(b.build());
  driver.input_topic<std::string, std::string>("lines").pipe("k", "the cat  sat");
  auto words = driver.output_topic<std::string, std::string>("words");
  EXPECT_EQ(words.read_values_to_list(), (std::vector<std::string>{"the", "cat", "sat"}));
}
