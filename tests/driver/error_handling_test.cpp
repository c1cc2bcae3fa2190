// Bad records: deserialization and processing errors reach the configured handler; with
// fail the task stops with an error naming topic, partition and offset; nothing is dropped
// without a log line, a counter, or a dead-letter record.
#include <gtest/gtest.h>

#include <rill/streams_builder.hpp>
#include <rill/testing/test_driver.hpp>

using rill::testing::test_driver;

namespace {

rill::topology int_doubler() {
  rill::streams_builder b;
  b.stream<std::string, std::int32_t>("numbers")
      .map_values(
          [](std::int32_t v) {
            if (v == 13) throw std::runtime_error("unlucky number");
            return v * 2;
          },
          rill::named("double"))
      .to("doubled");
  return b.build();
}

// Pipes raw bytes, as a misbehaving producer would.
void pipe_bytes(test_driver& d, std::string key, rill::bytes value) {
  d.pipe_raw("numbers", -1, rill::to_bytes(key), std::move(value), {}, 0);
}

rill::bytes int_bytes(std::int32_t v) {
  rill::bytes out;
  rill::serdes::number_serde<std::int32_t>{}.serialize(v, out, {});
  return out;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rill::streams_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(error_handling, deserialization_failure_fails_the_task_by_default) {
  test_driver d(int_doubler());
  pipe_bytes(d, "a", int_bytes(1));
  std::string msg = message_of([&] { pipe_bytes(d, "b", rill::to_bytes("not an int")); });
  EXPECT_NE(
      msg.find("task 0_0: cannot deserialize the record at topic 'numbers' partition 0 offset 1"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("expected 4 bytes, got 10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("default.deserialization.exception.handler"), std::string::npos) << msg;
}

TEST(error_handling, log_and_continue_skips_the_record_and_counts_it) {
  test_driver d(int_doubler(),
                {.config = {{"default.deserialization.exception.handler", "log_and_continue"}}});
  pipe_bytes(d, "a", int_bytes(1));
  pipe_bytes(d, "b", rill::to_bytes("xx"));
  d.pipe_raw("numbers", -1, rill::to_bytes("c"), std::nullopt, {}, 0);  // null value: not an int32
  pipe_bytes(d, "d", int_bytes(3));
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("doubled").read_values_to_list()),
            (std::vector<std::int32_t>{2, 6}));
  EXPECT_EQ(d.counters().skipped, 2u);
  EXPECT_EQ(d.counters().processed, 4u);
}

TEST(error_handling, dead_letter_keeps_the_original_bytes_and_says_why) {
  test_driver d(int_doubler(),
                {.config = {{"default.deserialization.exception.handler", "dead_letter"},
                            {"processing.exception.handler", "dead_letter"},
                            {"errors.dead.letter.queue.topic.name", "numbers-dlq"}}});
  pipe_bytes(d, "a", int_bytes(1));
  d.pipe_raw("numbers", -1, rill::to_bytes("b"), rill::to_bytes("garbage"),
             rill::headers{{"trace", "t9"}}, 77);
  pipe_bytes(d, "c", int_bytes(13));
  pipe_bytes(d, "d", int_bytes(4));
  EXPECT_EQ((d.output_topic<std::string, std::int32_t>("doubled").read_values_to_list()),
            (std::vector<std::int32_t>{2, 8}));
  auto dlq = d.output_topic<std::string, rill::bytes>("numbers-dlq").read_records_to_list();
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(dlq[0].key, "b");
  EXPECT_EQ(dlq[0].value, rill::to_bytes("garbage"));
  EXPECT_EQ(dlq[0].timestamp, 77);
  EXPECT_EQ(dlq[0].headers.get("trace"), "t9") << "original headers are kept";
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.topic"), "numbers");
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.partition"), "0");
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.offset"), "1");
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.exception"), "rill::serde_error");
  EXPECT_NE(dlq[0].headers.get("__streams.errors.message")->find("expected 4 bytes"),
            std::string::npos);
  EXPECT_EQ(dlq[1].key, "c");
  EXPECT_EQ(dlq[1].value, int_bytes(13));
  EXPECT_EQ(dlq[1].headers.get("__streams.errors.message"), "unlucky number");
  EXPECT_EQ(dlq[1].headers.get("__streams.errors.exception"), "std::runtime_error");
  EXPECT_EQ(dlq[1].headers.get("__rill.errors.node"), "double");
  EXPECT_EQ(d.counters().dead_lettered, 2u);
}

TEST(error_handling, processing_failure_names_the_node_and_record) {
  test_driver d(int_doubler());
  pipe_bytes(d, "a", int_bytes(5));
  std::string msg = message_of([&] { pipe_bytes(d, "b", int_bytes(13)); });
  EXPECT_EQ(
      msg,
      "task 0_0: node 'double' threw while processing the record at topic 'numbers' partition 0 "
      "offset 1: unlucky number. To skip such records set processing.exception.handler to "
      "log_and_continue or dead_letter");
}

TEST(error_handling, custom_handlers_see_the_record_and_decide) {
  std::vector<std::string> seen;
  rill::testing::driver_options o;
  o.deserialization_handler = [&](const rill::error_context& c, const std::exception& e) {
    seen.push_back("deser " + std::string(c.topic) + "@" + std::to_string(c.offset) + " " +
                   std::string(rill::as_chars(*c.value)) + ": " + e.what());
    return rill::handler_response::skip;
  };
  o.processing_handler = [&](const rill::error_context& c, const std::exception& e) {
    seen.push_back("proc " + std::string(c.node) + "@" + std::to_string(c.offset) + ": " +
                   e.what());
    return c.offset < 3 ? rill::handler_response::skip : rill::handler_response::fail;
  };
  test_driver d(int_doubler(), std::move(o));
  pipe_bytes(d, "a", rill::to_bytes("abc"));
  pipe_bytes(d, "b", int_bytes(13));
  pipe_bytes(d, "c", int_bytes(2));
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "deser numbers@0 abc: int serde on topic 'numbers': expected 4 bytes, got 3",
                      "proc double@1: unlucky number"}));
  EXPECT_THROW(pipe_bytes(d, "d", int_bytes(13)), rill::streams_error);
}

TEST(error_handling, dead_letter_without_a_topic_is_a_config_error) {
  EXPECT_THROW(
      test_driver(int_doubler(), {.config = {{"processing.exception.handler", "dead_letter"}}}),
      rill::config_error);
}

TEST(error_handling, a_null_value_for_a_non_optional_type_explains_the_fix) {
  test_driver d(int_doubler());
  std::string msg =
      message_of([&] { d.pipe_raw("numbers", -1, rill::to_bytes("k"), std::nullopt, {}, 0); });
  EXPECT_NE(
      msg.find("a null value on topic 'numbers' cannot be read as int; use std::optional<...>"),
      std::string::npos)
      << msg;
}

TEST(error_handling, a_punctuation_that_throws_goes_to_the_processing_handler) {
  struct ticking : rill::processor<std::string, std::int32_t, void, void> {
    void init(context_type& c) override {
      c.schedule(std::chrono::milliseconds(10), rill::punctuation_type::stream_time,
                 [](rill::timestamp_ms) { throw std::runtime_error("tick failed"); });
    }
    void process(rill::record<std::string, std::int32_t>) override {}
  };
  rill::streams_builder b;
  b.stream<std::string, std::int32_t>("numbers").process([] { return std::make_unique<ticking>(); },
                                                         rill::named("ticker"));
  test_driver d(b.build());
  std::string msg = message_of([&] { pipe_bytes(d, "a", int_bytes(1)); });
  EXPECT_EQ(
      msg,
      "task 0_0: node 'ticker' threw while processing a punctuation: tick failed. To skip such "
      "records set processing.exception.handler to log_and_continue or dead_letter");
}
