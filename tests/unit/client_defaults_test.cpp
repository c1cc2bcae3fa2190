// The librdkafka properties Rill gives a stream thread's clients (docs/config.md lists them),
// and a `consumer.` or `producer.` property overriding each.
#include <gtest/gtest.h>

#include <string>

#include <rill/rill.hpp>

#include "src/runtime/app_settings.hpp"

namespace {

rill::runtime::app_shared settings(std::initializer_list<std::pair<std::string, std::string>> kv) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("out");
  rill::config c{{"application.id", "defaults"}};
  for (const auto& [k, v] : kv) c.set(k, v);
  return rill::runtime::settings_from(b.build().compiled(), c);
}

TEST(client_defaults, a_stream_thread_fetches_without_waiting_out_librdkafkas_half_second) {
  auto s = settings({});
  EXPECT_EQ(s.consumer_props.at("fetch.wait.max.ms"), "100");
  EXPECT_EQ(s.consumer_props.at("socket.nagle.disable"), "true");
  EXPECT_EQ(s.producer_props.at("socket.nagle.disable"), "true");
  EXPECT_FALSE(s.producer_props.contains("fetch.wait.max.ms"));
  s = settings({{"consumer.fetch.wait.max.ms", "500"}, {"consumer.socket.nagle.disable", "false"}});
  EXPECT_EQ(s.consumer_props.at("fetch.wait.max.ms"), "500");
  EXPECT_EQ(s.consumer_props.at("socket.nagle.disable"), "false");
  EXPECT_EQ(s.producer_props.at("socket.nagle.disable"), "true");
}

}  // namespace
