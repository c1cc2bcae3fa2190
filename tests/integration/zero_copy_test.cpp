// The bytes a source reads are where the Kafka client received them. The consumer hands the
// runtime a descriptor whose key and value are views into librdkafka's fetched message, and
// that message into the fetch response's buffer it shares with the rest of its batch (by a
// reference count, until the last record of it is destroyed); the task passes those views
// to the deserializer (a borrowed rill::bytes_view reads them in place: allocations_test
// shows it allocates nothing per record). This test checks the first link on the wire: no
// copy between librdkafka's buffer and the record the runtime queues.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.hpp"
#include "src/kafka/client.hpp"
#include "src/runtime/cluster.hpp"

namespace {

using namespace std::chrono_literals;

std::string as_string(std::optional<rill::bytes_view> v) {
  return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
}

TEST(zero_copy, polled_records_view_the_fetched_message_in_place) {
  rill::test::cluster c;
  const std::string topic = rill::test::unique("zero-copy");
  c.create_topic(topic, 1);
  auto conn = rill::runtime::connect_cluster(c.bootstrap(), c.control());

  constexpr int records = 200;
  auto producer = conn.clients->make_producer({});
  std::vector<std::string> values;
  for (int i = 0; i < records; ++i) {
    const std::string key = "key-" + std::to_string(i);
    values.push_back(std::string(100, static_cast<char>('a' + i % 26)) + std::to_string(i));
    ASSERT_FALSE(
        producer->send(topic, 0, rill::as_bytes(key), rill::as_bytes(values.back()), {}, 1000 + i));
  }
  ASSERT_FALSE(producer->flush(30s)) << "the input was not delivered";

  auto consumer = conn.clients->make_consumer({{"group.id", rill::test::unique("zero-copy")}});
  ASSERT_FALSE(consumer->assign({{{topic, 0}, 0}}));
  std::vector<rill::kafka::consumed_record> got;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (got.size() < static_cast<std::size_t>(records)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "only " << got.size() << " of " << records << " records polled in 60 s";
    std::vector<rill::kafka::consumed_record> batch;
    ASSERT_FALSE(consumer->poll(200ms, 1000, batch));
    for (auto& r : batch) got.push_back(std::move(r));
  }

  for (int i = 0; i < records; ++i) {
    const auto& r = got[static_cast<std::size_t>(i)];
    ASSERT_EQ(r.raw.offset, i);
    EXPECT_EQ(as_string(r.raw.key), "key-" + std::to_string(i));
    EXPECT_EQ(as_string(r.raw.value), values[static_cast<std::size_t>(i)]);
    // The descriptor owns librdkafka's message, and its views are the message's own bytes.
    const auto* m = static_cast<const rd_kafka_message_t*>(r.owner.get());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(static_cast<const void*>(r.raw.value->data()), m->payload)
        << "record " << i << ": the value was copied out of the fetched message";
    EXPECT_EQ(static_cast<const void*>(r.raw.key->data()), m->key)
        << "record " << i << ": the key was copied out of the fetched message";
  }
  consumer->close();
}

}  // namespace
