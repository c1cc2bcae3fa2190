// Built-in serdes: the bytes Kafka's Java serializers write, nulls, and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <rill/serde.hpp>

namespace {

template <class T>
rill::bytes encode(const T& v) {
  rill::bytes out;
  rill::default_serde<T>().encode(v, out, {"t"});
  return out;
}

template <class T>
T decode(const rill::bytes& b) {
  rill::bytes_view v(b);
  return rill::default_serde<T>().decode(&v, {"t"});
}

rill::bytes bytes_of(std::initializer_list<int> xs) {
  rill::bytes out;
  for (int x : xs) out.push_back(static_cast<std::byte>(x));
  return out;
}

}  // namespace

TEST(serde, integers_are_big_endian_like_java) {
  // Java: ByteBuffer.allocate(4).putInt(0x01020304) and friends.
  EXPECT_EQ(encode<std::int32_t>(0x01020304), bytes_of({1, 2, 3, 4}));
  EXPECT_EQ(encode<std::int16_t>(-2), bytes_of({0xff, 0xfe}));
  EXPECT_EQ(encode<std::int64_t>(1), bytes_of({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(encode<std::uint32_t>(0xdeadbeef), bytes_of({0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(decode<std::int64_t>(bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})), -2);
  EXPECT_EQ(decode<std::int32_t>(encode<std::int32_t>(std::numeric_limits<std::int32_t>::min())),
            std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(decode<std::uint64_t>(encode<std::uint64_t>(~0ull)), ~0ull);
}

TEST(serde, floating_point_is_ieee754_big_endian) {
  // Java: Double.doubleToLongBits(1.0) = 0x3ff0000000000000, Float.floatToIntBits(1.0f) =
  // 0x3f800000.
  EXPECT_EQ(encode<double>(1.0), bytes_of({0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode<float>(1.0f), bytes_of({0x3f, 0x80, 0, 0}));
  EXPECT_EQ(decode<double>(encode<double>(-3.25)), -3.25);
  EXPECT_TRUE(std::isnan(decode<float>(encode<float>(std::nanf("")))));
}

TEST(serde, strings_bytes_and_bools) {
  EXPECT_EQ(encode<std::string>("héllo"), rill::to_bytes("héllo"));
  EXPECT_EQ(decode<std::string>(rill::to_bytes("")), "");
  rill::bytes raw = bytes_of({0, 255, 7});
  EXPECT_EQ(decode<rill::bytes>(encode<rill::bytes>(raw)), raw);
  EXPECT_EQ(encode<bool>(true), bytes_of({1}));
  EXPECT_FALSE(decode<bool>(bytes_of({0})));
}

TEST(serde, borrowed_bytes_read_in_place_and_write_as_they_are) {
  const rill::bytes raw = bytes_of({0, 255, 7});
  const rill::serdes::bytes_view_serde s;
  const rill::bytes_view seen = s.deserialize(rill::bytes_view(raw), {"t"});
  EXPECT_EQ(seen.data(), raw.data()) << "a view of the input, not a copy";
  EXPECT_EQ(seen.size(), raw.size());
  EXPECT_EQ(encode<rill::bytes_view>(rill::bytes_view(raw)), raw);
}

TEST(serde, raw_bytes_go_to_the_producer_without_a_copy) {
  // What a sink sends: the value's own bytes for raw bytes, the written bytes otherwise.
  const rill::bytes raw = bytes_of({0, 255, 7});
  rill::bytes buf;
  const auto borrowed =
      rill::default_serde<rill::bytes_view>().encode_view(rill::bytes_view(raw), buf, {"t"});
  ASSERT_TRUE(borrowed);
  EXPECT_EQ(borrowed->data(), raw.data()) << "raw bytes are sent from where they are";
  EXPECT_EQ(borrowed->size(), raw.size());
  EXPECT_TRUE(buf.empty());
  const auto owned = rill::default_serde<rill::bytes>().encode_view(raw, buf, {"t"});
  ASSERT_TRUE(owned);
  EXPECT_EQ(owned->data(), raw.data());

  const std::string word = "abc";
  const auto text = rill::default_serde<std::string>().encode_view(word, buf, {"t"});
  ASSERT_TRUE(text);
  EXPECT_EQ(static_cast<const void*>(text->data()), static_cast<const void*>(word.data()))
      << "a string is sent from its own characters";
  EXPECT_EQ(rill::bytes(text->begin(), text->end()), rill::to_bytes("abc"));
  EXPECT_TRUE(buf.empty());
  const auto number = rill::default_serde<std::int64_t>().encode_view(7, buf, {"t"});
  ASSERT_TRUE(number);
  EXPECT_EQ(number->data(), buf.data()) << "other values are written into the buffer";
  EXPECT_EQ(rill::bytes(number->begin(), number->end()), bytes_of({0, 0, 0, 0, 0, 0, 0, 7}));
  const auto null =
      rill::default_serde<std::optional<std::string>>().encode_view(std::nullopt, buf, {"t"});
  EXPECT_FALSE(null) << "a null is no bytes at all";

  // Read back: a view of the input, with no call into the serde.
  const rill::bytes_view in(raw);
  EXPECT_EQ(rill::default_serde<rill::bytes_view>().decode(&in, {"t"}).data(), raw.data());
  EXPECT_THROW(rill::default_serde<rill::bytes_view>().decode(nullptr, {"t"}), rill::serde_error)
      << "a null still cannot be read as bytes";
  const rill::bytes chars = rill::to_bytes("k42");
  const rill::bytes_view text_in(chars);
  EXPECT_EQ(rill::default_serde<std::string>().decode(&text_in, {"t"}), "k42");
}

TEST(serde, wrong_size_names_type_topic_and_sizes) {
  try {
    decode<std::int32_t>(bytes_of({1, 2, 3}));
    FAIL() << "expected serde_error";
  } catch (const rill::serde_error& e) {
    EXPECT_STREQ(e.what(), "int serde on topic 't': expected 4 bytes, got 3");
  }
  EXPECT_THROW(decode<bool>(bytes_of({2})), rill::serde_error);
}

TEST(serde, nulls_read_as_nullopt_or_fail_with_a_hint) {
  auto opt = rill::default_serde<std::optional<std::string>>();
  rill::bytes out{std::byte{9}};
  EXPECT_FALSE(opt.encode(std::nullopt, out, {"t"})) << "nullopt is written as Kafka's null";
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(opt.decode(nullptr, {"t"}), std::nullopt);
  EXPECT_TRUE(opt.encode(std::string("x"), out, {"t"}));
  EXPECT_EQ(out, rill::to_bytes("x"));

  auto key = rill::default_serde<rill::null_key>();
  EXPECT_FALSE(key.encode(rill::null_key{}, out, {"t", true}));

  try {
    rill::default_serde<std::string>().decode(nullptr, {"orders", false});
    FAIL() << "expected serde_error";
  } catch (const rill::serde_error& e) {
    EXPECT_STREQ(e.what(),
                 "a null value on topic 'orders' cannot be read as std::string; use "
                 "std::optional<...> (or void for keys) to accept nulls");
  }
}

TEST(serde, defaults_exist_only_where_a_format_is_obvious) {
  static_assert(rill::has_default_serde<std::string>);
  static_assert(rill::has_default_serde<std::optional<std::int64_t>>);
  static_assert(!rill::has_default_serde<std::pair<int, int>>);
  EXPECT_FALSE(static_cast<bool>(rill::default_serde<std::pair<int, int>>()));
}

namespace {
struct point {
  int x = 0;
  int y = 0;
};
struct point_serde {
  using value_type = point;
  void serialize(const point& p, rill::bytes& out, const rill::serde_context&) const {
    rill::append(out, std::to_string(p.x) + "," + std::to_string(p.y));
  }
  point deserialize(rill::bytes_view in, const rill::serde_context&) const {
    std::string s(rill::as_chars(in));
    auto comma = s.find(',');
    if (comma == std::string::npos) throw rill::serde_error("point: no comma in '" + s + "'");
    return {std::stoi(s.substr(0, comma)), std::stoi(s.substr(comma + 1))};
  }
};
}  // namespace

template <>
struct rill::serde_traits<point> {
  using type = point_serde;
};

TEST(serde, user_types_get_defaults_through_serde_traits) {
  static_assert(rill::serde<point_serde>);
  static_assert(rill::serde_for<point_serde, point>);
  point p = decode<point>(encode<point>(point{3, -4}));
  EXPECT_EQ(p.x, 3);
  EXPECT_EQ(p.y, -4);
  EXPECT_EQ(encode<std::optional<point>>(point{1, 2}), rill::to_bytes("1,2"));
}
