// The default partitioner must agree with Kafka's Java client byte for byte.
#include <gtest/gtest.h>

#include "src/runtime/partitioner.hpp"

namespace {
std::int32_t java_murmur2(std::string_view s) {
  return static_cast<std::int32_t>(rill::runtime::murmur2(rill::as_bytes(s)));
}
}  // namespace

TEST(murmur2, matches_kafka_utils_test_vectors) {
  // Expected values from Kafka's clients UtilsTest.testMurmur2.
  EXPECT_EQ(java_murmur2("21"), -973932308);
  EXPECT_EQ(java_murmur2("foobar"), -790332482);
  EXPECT_EQ(java_murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(java_murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(java_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(java_murmur2("abc"), 479470107);
}

TEST(murmur2, partition_is_positive_hash_modulo_count) {
  // toPositive(-973932308) % 7, as the Java producer computes it.
  EXPECT_EQ(rill::runtime::default_partition(rill::as_bytes("21"), 7),
            static_cast<std::int32_t>((static_cast<std::uint32_t>(-973932308) & 0x7fffffffu) % 7u));
  for (int n = 1; n < 50; ++n) {
    auto p = rill::runtime::default_partition(rill::as_bytes("key-" + std::to_string(n)), n);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, n);
  }
}
