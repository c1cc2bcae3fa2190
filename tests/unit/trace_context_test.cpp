// The W3C traceparent helpers of <rill/tracing.hpp> and the headers codec the stores holding
// records for later output use (detail/headers_codec.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rill/detail/headers_codec.hpp>
#include <rill/tracing.hpp>

namespace {
const std::string sample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
}

TEST(traceparent, parses_and_prints_the_w3c_example) {
  auto p = rill::traceparent::parse(sample);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(p->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(p->flags, 1);
  EXPECT_TRUE(p->sampled());
  EXPECT_EQ(p->to_string(), sample);
  EXPECT_EQ(p->child("0000000000000abc").to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-01");
}

TEST(traceparent, refuses_what_the_specification_calls_invalid) {
  for (const std::string& bad : std::vector<std::string>{
           "",
           sample.substr(0, 54),                                       // short
           sample + "-x",                                              // version 00 has 4 fields
           "ff" + sample.substr(2),                                    // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(rill::traceparent::parse(bad)) << bad;
  }
  EXPECT_TRUE(rill::traceparent::parse("01" + sample.substr(2) + "-later-fields"))
      << "a later version may add fields";
}

TEST(headers_codec, round_trips_keys_values_nulls_and_repeats) {
  rill::headers h{{"traceparent", sample}, {"tracestate", "a=1,b=2"}, {"empty", ""}};
  h.add("null", std::nullopt).add("tracestate", std::string(300, 'x'));
  rill::bytes b;
  rill::detail::append_headers(b, h);
  b.push_back(std::byte{42});  // what follows in a store value
  rill::bytes_view in(b);
  EXPECT_EQ(rill::detail::read_headers(in, "test"), h);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0], std::byte{42});
  rill::bytes_view skipped(b);
  rill::detail::skip_headers(skipped, "test");
  EXPECT_EQ(skipped.size(), 1u);
}

TEST(headers_codec, no_headers_take_one_byte_and_a_cut_off_list_is_a_serde_error) {
  rill::bytes b;
  rill::detail::append_headers(b, {});
  EXPECT_EQ(b.size(), 1u);
  rill::detail::append_headers(b, {{"traceparent", sample}});
  for (std::size_t n = 2; n < b.size(); ++n) {
    rill::bytes_view in = rill::bytes_view(b).subspan(1, n - 1);
    EXPECT_THROW(rill::detail::read_headers(in, "test"), rill::serde_error) << n;
  }
}
