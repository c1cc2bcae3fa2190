// rill::json_serde: the JSON wire format of Boost.Hana structs, as a consumer or a producer
// on another stack sees it, and the errors a user gets for bad records.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <rill/json.hpp>

namespace rill_json_test {

struct address {
  std::string street;
  std::string city;
  std::optional<std::string> zip;
  bool operator==(const address&) const = default;
};

struct line_item {
  BOOST_HANA_DEFINE_STRUCT(line_item, (std::string, sku), (int, qty), (double, price));
  bool operator==(const line_item&) const = default;
};

struct order {
  std::string id;
  std::string customer;
  double amount = 0;
  std::string currency = "EUR";
  address shipping;
  std::vector<line_item> items;
  std::optional<std::string> coupon;
  std::map<std::string, std::string> tags;
  bool gift = false;
  int retries = 3;
  bool operator==(const order&) const = default;
};

// Every supported member type, nested.
struct everything {
  std::int8_t i8 = 0;
  std::int16_t i16 = 0;
  std::int32_t i32 = 0;
  std::int64_t i64 = 0;
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  long long ll = 0;
  unsigned long ul = 0;
  char c = 0;
  float f = 0;
  double d = 0;
  bool b = false;
  std::string s;
  address nested;
  std::vector<int> ints;
  std::vector<bool> bits;
  std::vector<std::string> strings;
  std::vector<std::vector<double>> matrix;
  std::vector<address> addresses;
  std::vector<std::optional<int>> maybe_ints;
  std::optional<address> maybe_address;
  std::optional<std::vector<int>> maybe_list;
  std::map<std::string, int> counts;
  std::map<std::string, address> by_name;
  std::map<std::string, std::vector<std::string>> groups;
  bool operator==(const everything&) const = default;
};

struct point {
  std::string label;
  int x = 0;
  double weight = 0;
  bool visible = false;
  std::optional<int> z;
  std::vector<std::uint8_t> path;
  std::map<std::string, float> scores;
  bool operator==(const point&) const = default;
};

struct tree {
  std::string name;
  std::vector<tree> children;
  bool operator==(const tree&) const = default;
};

struct empty {
  bool operator==(const empty&) const = default;
};

}  // namespace rill_json_test

BOOST_HANA_ADAPT_STRUCT(rill_json_test::address, street, city, zip);
BOOST_HANA_ADAPT_STRUCT(rill_json_test::order, id, customer, amount, currency, shipping, items,
                        coupon, tags, gift, retries);
BOOST_HANA_ADAPT_STRUCT(rill_json_test::everything, i8, i16, i32, i64, u8, u16, u32, u64, ll, ul, c,
                        f, d, b, s, nested, ints, bits, strings, matrix, addresses, maybe_ints,
                        maybe_address, maybe_list, counts, by_name, groups);
BOOST_HANA_ADAPT_STRUCT(rill_json_test::point, label, x, weight, visible, z, path, scores);
BOOST_HANA_ADAPT_STRUCT(rill_json_test::tree, name, children);
BOOST_HANA_ADAPT_STRUCT(rill_json_test::empty);

namespace rill_json_test {
namespace {

// Passes if `text` contains `part`; otherwise prints both.
::testing::AssertionResult contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "the text\n  " << text << "\ndoes not contain\n  " << part;
}

const rill::serde_context k_ctx{"orders", false, nullptr};

template <class T>
std::string to_json(const T& v, const rill::serde_context& ctx = k_ctx) {
  rill::bytes out;
  rill::json_serde<T>{}.serialize(v, out, ctx);
  return std::string(rill::as_chars(out));
}

template <class T>
T from_json(std::string_view text, const rill::serde_context& ctx = k_ctx) {
  return rill::json_serde<T>{}.deserialize(rill::as_bytes(text), ctx);
}

// The message of the serde_error that reading `text` as T throws ("" if none is thrown).
template <class T>
std::string read_error(std::string_view text, const rill::serde_context& ctx = k_ctx) {
  try {
    from_json<T>(text, ctx);
  } catch (const rill::serde_error& e) {
    return e.what();
  }
  return "";
}

template <class T>
std::string write_error(const T& v) {
  try {
    to_json(v);
  } catch (const rill::serde_error& e) {
    return e.what();
  }
  return "";
}

order sample_order() {
  return {"ord-1",
          "cust-42",
          292.73,
          "EUR",
          {"221B Baker Street", "London", "NW1 6XE"},
          {{"SKU-1", 2, 19.99}, {"SKU-2", 1, 233.0}, {"SKU-3", 5, 3.95}},
          "SPRING10",
          {{"channel", "web"}, {"region", "eu-west"}},
          true,
          0};
}

everything sample_everything() {
  everything e;
  e.i8 = std::numeric_limits<std::int8_t>::min();
  e.i16 = std::numeric_limits<std::int16_t>::max();
  e.i32 = std::numeric_limits<std::int32_t>::min();
  e.i64 = std::numeric_limits<std::int64_t>::min();
  e.u8 = std::numeric_limits<std::uint8_t>::max();
  e.u16 = std::numeric_limits<std::uint16_t>::max();
  e.u32 = std::numeric_limits<std::uint32_t>::max();
  e.u64 = std::numeric_limits<std::uint64_t>::max();
  e.ll = std::numeric_limits<long long>::max();
  e.ul = 12345678901234567890UL;
  e.c = 'A';
  e.f = 0.1f;
  e.d = -1.2345678901234567e-300;
  e.b = true;
  e.s = "quote \" backslash \\ slash / tab \t newline \n nul " + std::string(1, '\0') +
        " \x1f é 中 😀";
  e.nested = {"street", "city", std::nullopt};
  e.ints = {1, -2, 3};
  e.bits = {true, false, true};
  e.strings = {"", "a", "bc"};
  e.matrix = {{1.5, -0.0}, {}, {std::numeric_limits<double>::max()}};
  e.addresses = {{"a", "b", "c"}, {}};
  e.maybe_ints = {1, std::nullopt, 3};
  e.maybe_address = address{"x", "y", "z"};
  e.maybe_list = std::vector<int>{};
  e.counts = {{"one", 1}, {"", 0}, {"ü", -1}};
  e.by_name = {{"home", {"h", "c", std::nullopt}}};
  e.groups = {{"g", {"x", "y"}}, {"empty", {}}};
  return e;
}

// ---- defaults ----------------------------------------------------------------------------

TEST(JsonSerde, IsTheDefaultSerdeOfHanaStructs) {
  static_assert(rill::hana_struct<order> && rill::hana_struct<line_item>);
  static_assert(!rill::hana_struct<std::string> && !rill::hana_struct<std::optional<order>>);
  static_assert(std::is_same_v<rill::serde_traits<order>::type, rill::json_serde<order>>);
  static_assert(rill::serde_for<rill::json_serde<order>, order>);
  static_assert(std::is_same_v<rill::serde_traits<std::optional<order>>::type,
                               rill::serdes::optional_serde<rill::json_serde<order>>>);

  rill::any_serde<order> serde = rill::default_serde<order>();
  rill::bytes out;
  ASSERT_TRUE(serde.encode(sample_order(), out, k_ctx));
  rill::bytes_view in(out);
  EXPECT_EQ(serde.decode(&in, k_ctx), sample_order());
}

TEST(JsonSerde, OptionalStructIsATombstoneWhenEmpty) {
  rill::any_serde<std::optional<order>> serde = rill::default_serde<std::optional<order>>();
  rill::bytes out;
  EXPECT_FALSE(serde.encode(std::nullopt, out, k_ctx));
  EXPECT_EQ(serde.decode(nullptr, k_ctx), std::nullopt);
  ASSERT_TRUE(serde.encode(sample_order(), out, k_ctx));
  rill::bytes_view in(out);
  EXPECT_EQ(serde.decode(&in, k_ctx), sample_order());
}

// ---- wire format -------------------------------------------------------------------------

TEST(JsonSerde, WireFormatIsPinned) {
  point p{"p\"1", -3, 2.0, true, std::nullopt, {1, 255}, {{"b", 0.5f}, {"a", 1.0f}}};
  EXPECT_EQ(to_json(p),
            R"({"label":"p\"1","x":-3,"weight":2.0,"visible":true,"z":null,"path":[1,255],)"
            R"("scores":{"a":1.0,"b":0.5}})");

  p.z = 7;
  p.weight = 0.1;
  p.path.clear();
  p.scores.clear();
  EXPECT_EQ(to_json(p),
            R"({"label":"p\"1","x":-3,"weight":0.1,"visible":true,"z":7,"path":[],"scores":{}})");
  EXPECT_EQ(to_json(empty{}), "{}");
}

TEST(JsonSerde, NumbersAreShortestAndDoublesLookLikeDoubles) {
  point p;
  auto weight = [&](double w) {
    p.weight = w;
    std::string text = to_json(p);
    auto start = text.find("\"weight\":") + 9;
    return text.substr(start, text.find(',', start) - start);
  };
  EXPECT_EQ(weight(0), "0.0");
  EXPECT_EQ(weight(-0.0), "-0.0");
  EXPECT_EQ(weight(233), "233.0");
  EXPECT_EQ(weight(19.99), "19.99");
  EXPECT_EQ(weight(1e300), "1e+300");
  EXPECT_EQ(weight(5e-324), "5e-324");
  EXPECT_EQ(weight(0.30000000000000004), "0.30000000000000004");
}

TEST(JsonSerde, SerializeAppends) {
  rill::bytes out = rill::to_bytes("prefix:");
  rill::json_serde<empty>{}.serialize(empty{}, out, k_ctx);
  EXPECT_EQ(rill::as_chars(out), "prefix:{}");
}

TEST(JsonSerde, StringsEscapeOnlyWhatJsonRequires) {
  point p;
  p.label = std::string("a\"b\\c/d\b\f\n\r\t") + std::string(1, '\0') + "\x01\x1f\x7f é 中 😀";
  std::string text = to_json(p);
  EXPECT_TRUE(contains(text, R"("label":"a\"b\\c/d\b\f\n\r\t\u0000\u0001\u001f)"
                             "\x7f é 中 😀\""));
  EXPECT_EQ(from_json<point>(text), p);
}

// ---- round trips -------------------------------------------------------------------------

TEST(JsonSerde, RoundTripsNestedStructs) {
  EXPECT_EQ(from_json<order>(to_json(sample_order())), sample_order());
}

TEST(JsonSerde, RoundTripsEveryMemberType) {
  everything e = sample_everything();
  everything back = from_json<everything>(to_json(e));
  EXPECT_EQ(back, e);
  EXPECT_TRUE(std::signbit(back.matrix[0][1]));

  everything defaults;
  EXPECT_EQ(from_json<everything>(to_json(defaults)), defaults);
}

TEST(JsonSerde, RoundTripsRecursiveTypes) {
  tree t{"root", {{"a", {}}, {"b", {{"c", {}}}}}};
  EXPECT_EQ(to_json(t), R"({"name":"root","children":[{"name":"a","children":[]},)"
                        R"({"name":"b","children":[{"name":"c","children":[]}]}]})");
  EXPECT_EQ(from_json<tree>(to_json(t)), t);
}

TEST(JsonSerde, RoundTripsRecordsLargerThanTheKeptBuffers) {
  point big;
  big.label = std::string(3 << 20, 'x');
  big.path.assign(100000, 7);
  EXPECT_EQ(from_json<point>(to_json(big)), big);
  EXPECT_EQ(from_json<order>(to_json(sample_order())), sample_order());  // small again
}

TEST(JsonSerde, UnicodeEscapesReadAsUtf8) {
  point p = from_json<point>(R"({"label":"\u00e9\u4e2d\ud83d\ude00 \u0041\n\/\"\u0000"})");
  EXPECT_EQ(p.label, std::string("é中😀 A\n/\"") + std::string(1, '\0'));
  EXPECT_TRUE(contains(to_json(p), R"({"label":"é中😀 A\n/\"\u0000",)"));
  EXPECT_EQ(from_json<point>(to_json(p)), p);
}

// ---- reading what others write -----------------------------------------------------------

TEST(JsonSerde, UnknownFieldsAreIgnored) {
  order o = from_json<order>(R"({
      "version": 2, "id": "ord-1", "meta": {"a": [1, {"b": null}], "c": "\u00e9"},
      "customer": "cust-42", "flags": [true, false, null, 1.5e10, -0, "x"],
      "shipping": {"street": "s", "extra": {"deep": [[[]]]}, "city": "c"},
      "items": [{"sku": "A", "qty": 1, "price": 2, "discount": 0.5}],
      "huge": 123456789012345678901234567890e999
  })");
  EXPECT_EQ(o.id, "ord-1");
  EXPECT_EQ(o.customer, "cust-42");
  EXPECT_EQ(o.shipping, (address{"s", "c", std::nullopt}));
  EXPECT_EQ(o.items, (std::vector<line_item>{{"A", 1, 2.0}}));
}

TEST(JsonSerde, FieldsMayComeInAnyOrderAndTheLastRepeatWins) {
  order o = from_json<order>(
      R"({"gift":true,"items":[{"price":1.5,"qty":2,"sku":"x"}],"id":"a","id":"b",)"
      R"("tags":{"k":"1","k":"2"}})");
  EXPECT_EQ(o.id, "b");
  EXPECT_TRUE(o.gift);
  EXPECT_EQ(o.items, (std::vector<line_item>{{"x", 2, 1.5}}));
  EXPECT_EQ(o.tags, (std::map<std::string, std::string>{{"k", "2"}}));
}

TEST(JsonSerde, EscapedKeysMatchTheirFields) {
  order o = from_json<order>(R"({"\u0069d":"x","cust\u006fmer":"y"})");
  EXPECT_EQ(o.id, "x");
  EXPECT_EQ(o.customer, "y");
}

TEST(JsonSerde, MissingFieldsKeepTheirDefaults) {
  order o = from_json<order>("{}");
  EXPECT_EQ(o, order{});
  EXPECT_EQ(o.currency, "EUR");
  EXPECT_EQ(o.retries, 3);

  o = from_json<order>(R"({"items":[{"sku":"x"}],"shipping":{}})");
  ASSERT_EQ(o.items.size(), 1u);
  EXPECT_EQ(o.items[0].qty, 0);  // BOOST_HANA_DEFINE_STRUCT members are value-initialized
  EXPECT_EQ(o.items[0].price, 0.0);
}

TEST(JsonSerde, NullOrAbsentReadsAsNullopt) {
  EXPECT_EQ(from_json<order>(R"({"coupon":null})").coupon, std::nullopt);
  EXPECT_EQ(from_json<order>(R"({})").coupon, std::nullopt);
  EXPECT_EQ(from_json<order>(R"({"coupon":"X"})").coupon, "X");
  everything e =
      from_json<everything>(R"({"maybe_ints":[null,2],"maybe_address":null,"maybe_list":[]})");
  EXPECT_EQ(e.maybe_ints, (std::vector<std::optional<int>>{std::nullopt, 2}));
  EXPECT_EQ(e.maybe_address, std::nullopt);
  EXPECT_EQ(e.maybe_list, std::vector<int>{});
}

TEST(JsonSerde, IntegersInAnyFormReadIntoDoubles) {
  EXPECT_EQ(from_json<point>(R"({"weight":2})").weight, 2.0);
  EXPECT_EQ(from_json<point>(R"({"weight":-1E2})").weight, -100.0);
  EXPECT_EQ(from_json<point>(R"({"weight":123456789012345678901234567890})").weight,
            1.2345678901234568e29);
}

TEST(JsonSerde, WhitespaceAroundTheObjectIsAllowed) {
  EXPECT_EQ(from_json<point>(" \t\r\n{ \"x\" : 5 }\n ").x, 5);
}

// ---- bad records -------------------------------------------------------------------------

TEST(JsonSerde, WrongTypeNamesTheStructTopicAndFieldPath) {
  std::string msg = read_error<order>(R"({"items":[{"sku":"a","qty":1},{"sku":"b","qty":"2"}]})");
  EXPECT_TRUE(contains(msg, "rill::json_serde<rill_json_test::order>"));
  EXPECT_TRUE(contains(msg, "cannot read a value from topic 'orders'"));
  EXPECT_TRUE(contains(msg,
                       "at items[1].qty: expected an integer from -2147483648 to "
                       "2147483647, found a string"));

  EXPECT_TRUE(contains(read_error<order>(R"({"shipping":{"city":7}})"),
                       "at shipping.city: expected a string, found 7"));
  EXPECT_TRUE(contains(read_error<order>(R"({"tags":{"channel":["web"]}})"),
                       R"(at tags["channel"]: expected a string, found an array)"));
  EXPECT_TRUE(contains(read_error<order>(R"({"gift":"yes"})"),
                       "at gift: expected true or false, found a string"));
  EXPECT_TRUE(contains(read_error<order>(R"({"items":{}})"),
                       "at items: expected an array, found an object"));
  EXPECT_TRUE(contains(read_error<order>(R"({"shipping":[]})"),
                       "at shipping: expected an object, found an array"));
  EXPECT_TRUE(contains(read_error<order>(R"({"amount":"12.5"})"),
                       "at amount: expected a number, found a string"));
  EXPECT_TRUE(contains(read_error<order>(R"({"retries":null})"),
                       "at retries: expected an integer from -2147483648 to 2147483647, "
                       "found null"));
  EXPECT_TRUE(contains(read_error<order>(R"({"retries":1.5})"),
                       "at retries: expected an integer from -2147483648 to 2147483647, "
                       "found 1.5"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"bits":[true,1]})"),
                       "at bits[1]: expected true or false, found 1"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"matrix":[[1],[2,[3]]]})"),
                       "at matrix[1][1]: expected a number, found an array"));
}

TEST(JsonSerde, KeysSayKey) {
  EXPECT_TRUE(contains(read_error<order>("[]", {"orders", true, nullptr}),
                       "cannot read a key from topic 'orders': at the top level: expected a "
                       "JSON object, found an array"));
}

TEST(JsonSerde, NumbersOutOfRangeAreErrors) {
  EXPECT_TRUE(contains(read_error<order>(R"({"retries":2147483648})"),
                       "at retries: expected an integer from -2147483648 to 2147483647, "
                       "found 2147483648"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"u8":256})"),
                       "at u8: expected an integer from 0 to 255, found 256"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"u64":-1})"),
                       "at u64: expected an integer from 0 to 18446744073709551615, found -1"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"u64":18446744073709551616})"),
                       "found 18446744073709551616"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"i64":-9223372036854775809})"),
                       "at i64: expected an integer from -9223372036854775808 to "
                       "9223372036854775807, found -9223372036854775809"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"d":1e400})"),
                       "at d: expected a number that fits a double, found 1e400"));
  EXPECT_TRUE(contains(read_error<everything>(R"({"f":1e39})"),
                       "at f: expected a number that fits a float, found 1e39"));
  std::string digits(5000, '9');
  EXPECT_TRUE(contains(read_error<everything>(R"({"i32":)" + digits + "}"),
                       "found 9999999999999999999999999999999999999999..."));
}

TEST(JsonSerde, TruncatedInputIsMalformed) {
  std::string msg = read_error<order>(R"({"id":"ord-1","items":[{"sku":"a")");
  EXPECT_TRUE(contains(msg,
                       "rill::json_serde<rill_json_test::order>: cannot read a value "
                       "from topic 'orders'"));
  EXPECT_TRUE(contains(msg, "malformed JSON"));
  EXPECT_TRUE(contains(read_error<order>(R"({"id":"ord-)"), "malformed JSON"));

  // Every proper prefix of a valid record is an error, never a crash or a partial value.
  std::string text = to_json(sample_everything());
  for (std::size_t n = 0; n < text.size(); ++n)
    EXPECT_NE(read_error<everything>(text.substr(0, n)), "") << text.substr(0, n);
}

TEST(JsonSerde, NotJsonAtAll) {
  EXPECT_TRUE(contains(read_error<order>("hello world"),
                       "at the top level: expected a JSON object, found hello world"));
  EXPECT_TRUE(contains(read_error<order>("<html><body>502 Bad Gateway</body></html>"),
                       "expected a JSON object, found <html>"));
  EXPECT_TRUE(
      contains(read_error<order>("\"a string\""), "expected a JSON object, found a string"));
  EXPECT_TRUE(contains(read_error<order>("42"), "expected a JSON object, found 42"));
  EXPECT_TRUE(contains(read_error<order>("null"), "expected a JSON object, found null"));
}

TEST(JsonSerde, EmptyInput) {
  EXPECT_TRUE(contains(read_error<order>(""),
                       "cannot read a value from topic 'orders': at the top level: empty "
                       "input, expected a JSON object"));
  EXPECT_TRUE(contains(read_error<order>("  \n"), "empty input"));
}

TEST(JsonSerde, BrokenSyntaxIsMalformed) {
  for (std::string_view text : {
           R"({"id" "x"})",                    // missing colon
           R"({"id":"x",})",                   // trailing comma
           R"({"id":"x" "customer":"y"})",     // missing comma
           R"({"items":[{"sku":"a"}})",        // unbalanced
           R"({"id":"x"}})",                   // one brace too many
           R"({"id":"x"} {"id":"y"})",         // two documents
           R"({"id":"x"} trailing)",           // text after the object
           R"({"coupon":nul})",                // bad atom
           R"({"id":"\x"})",                   // bad escape
           R"({"id":"\ud800"})",               // lone surrogate
           "{\"id\":\"a\tb\"}",                // raw control character in a string
           R"({id:"x"})",                      // unquoted key
           R"({"unknown":[1,2,tru]})",         // broken text in an ignored field
           R"({"unknown":{"a" 1},"id":"x"})",  // broken structure in an ignored field
           R"({"unknown":01})",                // bad number in an ignored field
       }) {
    EXPECT_TRUE(contains(read_error<order>(text), "malformed JSON")) << text;
  }
  EXPECT_TRUE(contains(read_error<order>(R"({"unknown":[1,2,tru]})"),
                       "at unknown[2]: malformed JSON: tru is not a value"));
}

TEST(JsonSerde, InvalidUtf8IsMalformed) {
  EXPECT_TRUE(contains(read_error<order>("{\"id\":\"\xff\xfe\"}"),
                       "malformed JSON (The input is not valid UTF-8)"));
  EXPECT_TRUE(contains(read_error<order>("{\"id\":\"\xed\xa0\x80\"}"),  // an encoded surrogate
                       "not valid UTF-8"));
  EXPECT_TRUE(contains(read_error<order>("{\"x\xc3\":1}"), "not valid UTF-8"));
}

TEST(JsonSerde, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep_unknown =
      R"({"unknown":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string msg = read_error<order>(deep_unknown);
  EXPECT_TRUE(contains(msg, "at unknown[0][0][0]...("));
  EXPECT_TRUE(contains(msg, "more)...[0][0][0][0][0][0][0][0]: nested deeper than 256 levels"));
  EXPECT_TRUE(contains(read_error<order>(std::string(100000, '[') + std::string(100000, ']')),
                       "at the top level: expected a JSON object, found an array"));
  EXPECT_NE(read_error<order>(R"({"unknown":)" + std::string(100000, '{')), "");
  EXPECT_TRUE(contains(read_error<everything>(R"({"matrix":)" + std::string(100000, '[') +
                                              std::string(100000, ']') + "}"),
                       "at matrix[0][0]: expected a number, found an array"));

  // A recursive type follows the input as deep as the limit allows.
  auto nested_tree = [](int levels) {
    std::string text;
    for (int i = 0; i < levels; ++i) text += R"({"children":[)";
    text += "{}";
    for (int i = 0; i < levels; ++i) text += "]}";
    return text;
  };
  tree t = from_json<tree>(nested_tree(127));  // 255 levels of objects and arrays
  int levels = 0;
  for (const tree* n = &t; !n->children.empty(); n = &n->children[0]) ++levels;
  EXPECT_EQ(levels, 127);
  msg = read_error<tree>(nested_tree(128));
  EXPECT_TRUE(contains(msg, "at children[0].children[0]...("));
  EXPECT_TRUE(contains(msg,
                       "more)...children[0].children[0].children[0].children[0]: nested "
                       "deeper than 256 levels"));
  EXPECT_TRUE(contains(read_error<tree>(nested_tree(50000)), "nested deeper than 256 levels"));
}

// Random bytes and random damage to valid records: a serde_error or a value, nothing else.
TEST(JsonSerde, NeverCrashesOnDamagedInput) {
  std::mt19937_64 rng(20240601);
  const std::string valid = to_json(sample_everything());
  const std::string alphabet = std::string("{}[]:,\"\\ 0123456789.eE+-truefalsnl\x80\xff") + '\0';
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (i % 4 == 0) {  // binary garbage
      text.resize(rng() % 64);
      for (char& c : text) c = static_cast<char>(rng());
    } else {  // a valid record with a few bytes changed, dropped or cut off
      text = valid;
      for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0 && !text.empty(); --edits) {
        std::size_t at = rng() % text.size();
        switch (rng() % 3) {
          case 0:
            text[at] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            text.erase(at, 1 + rng() % 8);
            break;
          case 2:
            text.resize(at);
            break;
        }
      }
    }
    try {
      from_json<everything>(text);
    } catch (const rill::serde_error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 5000);  // at least the garbage
}

// ---- bad values to write -----------------------------------------------------------------

TEST(JsonSerde, NonFiniteNumbersCannotBeWritten) {
  order o = sample_order();
  o.items[1].price = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(contains(write_error(o),
                       "rill::json_serde<rill_json_test::order>: cannot write a value to "
                       "topic 'orders': at items[1].price: NaN and infinity have no JSON form"));
  point p;
  p.scores["inf"] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(contains(write_error(p), R"(at scores["inf"]: NaN and infinity)"));
}

TEST(JsonSerde, InvalidUtf8CannotBeWritten) {
  order o = sample_order();
  o.customer = "caf\xe9";  // Latin-1
  EXPECT_TRUE(contains(write_error(o), "at customer: the string is not valid UTF-8 (byte 3 of 4)"));
  o = sample_order();
  o.tags["\xc0\xaf"] = "overlong";
  EXPECT_TRUE(contains(write_error(o), "not valid UTF-8"));
  o = sample_order();
  o.shipping.zip = "\xed\xa0\x80";  // an encoded surrogate
  EXPECT_TRUE(contains(write_error(o), "at shipping.zip: the string is not valid UTF-8"));
}

TEST(JsonSerde, TooDeepValuesCannotBeWritten) {
  tree t;
  tree* n = &t;
  for (int i = 0; i < 200; ++i) n = &n->children.emplace_back();
  EXPECT_TRUE(contains(write_error(t), "nested deeper than 256 levels"));
}

TEST(JsonSerde, OneSerdeServesManyThreads) {
  const rill::json_serde<order> serde;
  const std::string text = to_json(sample_order());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      rill::bytes out;
      for (int i = 0; i < 500; ++i) {
        out.clear();
        serde.serialize(serde.deserialize(rill::as_bytes(text), k_ctx), out, k_ctx);
        if (rill::as_chars(out) != text) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
}

// ---- property ----------------------------------------------------------------------------

class random_values {
 public:
  explicit random_values(std::uint64_t seed) : _rng(seed) {}

  template <class I>
  I integer() {
    return static_cast<I>(_rng());
  }
  double real() {
    for (;;) {
      double d = std::bit_cast<double>(_rng());
      if (std::isfinite(d)) return d;
    }
  }
  float real32() {
    for (;;) {
      float f = std::bit_cast<float>(static_cast<std::uint32_t>(_rng()));
      if (std::isfinite(f)) return f;
    }
  }
  std::size_t size(std::size_t max) { return _rng() % (max + 1); }
  bool coin() { return _rng() & 1; }

  // Any code point but surrogates, as UTF-8, often ASCII and JSON's special characters.
  std::string text() {
    std::string s;
    for (std::size_t n = size(12); n > 0; --n) {
      std::uint32_t cp;
      switch (_rng() % 4) {
        case 0:
          cp = "\"\\/\b\f\n\r\t\x01 aZ"[_rng() % 12];
          break;
        case 1:
          cp = 0x20 + _rng() % 0x5f;
          break;
        case 2:
          cp = _rng() % 0x800;
          break;
        default:
          do cp = _rng() % 0x110000;
          while (cp >= 0xD800 && cp <= 0xDFFF);
      }
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    return s;
  }

  address addr() {
    address a{text(), text(), std::nullopt};
    if (coin()) a.zip = text();
    return a;
  }

  everything value() {
    everything e;
    e.i8 = integer<std::int8_t>();
    e.i16 = integer<std::int16_t>();
    e.i32 = integer<std::int32_t>();
    e.i64 = integer<std::int64_t>();
    e.u8 = integer<std::uint8_t>();
    e.u16 = integer<std::uint16_t>();
    e.u32 = integer<std::uint32_t>();
    e.u64 = integer<std::uint64_t>();
    e.ll = integer<long long>();
    e.ul = integer<unsigned long>();
    e.c = integer<char>();
    e.f = real32();
    e.d = real();
    e.b = coin();
    e.s = text();
    e.nested = addr();
    for (std::size_t n = size(4); n > 0; --n) e.ints.push_back(integer<int>());
    for (std::size_t n = size(4); n > 0; --n) e.bits.push_back(coin());
    for (std::size_t n = size(3); n > 0; --n) e.strings.push_back(text());
    for (std::size_t n = size(3); n > 0; --n) {
      auto& row = e.matrix.emplace_back();
      for (std::size_t m = size(3); m > 0; --m) row.push_back(real());
    }
    for (std::size_t n = size(2); n > 0; --n) e.addresses.push_back(addr());
    for (std::size_t n = size(3); n > 0; --n)
      e.maybe_ints.push_back(coin() ? std::optional<int>(integer<int>()) : std::nullopt);
    if (coin()) e.maybe_address = addr();
    if (coin()) e.maybe_list.emplace(size(3), integer<int>());
    for (std::size_t n = size(3); n > 0; --n) e.counts[text()] = integer<int>();
    for (std::size_t n = size(2); n > 0; --n) e.by_name[text()] = addr();
    for (std::size_t n = size(2); n > 0; --n) e.groups[text()] = {text(), text()};
    return e;
  }

 private:
  std::mt19937_64 _rng;
};

TEST(JsonSerde, RandomValuesRoundTrip) {
  random_values gen(42);
  for (int i = 0; i < 2000; ++i) {
    everything e = gen.value();
    std::string text = to_json(e);
    everything back = from_json<everything>(text);
    ASSERT_EQ(back, e) << "case " << i << ": " << text;
    ASSERT_EQ(to_json(back), text) << "case " << i;
  }
}

}  // namespace
}  // namespace rill_json_test
