// rill::avro_serde: the schema derived from a struct, Avro's binary encoding, schema
// evolution through the registry, and bad records as serde errors.
#include <gtest/gtest.h>

#include <random>

#include <rill/avro.hpp>
#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "../registry/registry_server.hpp"
#include "../registry/test_certificates.hpp"

namespace shop {
struct line_item {
  std::string sku;
  std::int32_t qty = 0;
};
struct order {
  std::string id;
  double amount = 0;
  std::int32_t qty = 1;
  std::optional<std::string> coupon;
  std::vector<line_item> items;
  std::map<std::string, std::int64_t> tags;
  bool paid = false;
};
}  // namespace shop
BOOST_HANA_ADAPT_STRUCT(shop::line_item, sku, qty);
BOOST_HANA_ADAPT_STRUCT(shop::order, id, amount, qty, coupon, items, tags, paid);

// Two versions of one record, as two services would hold it.
namespace v1 {
struct payment {
  std::string id;
  std::int32_t cents = 0;
  std::string note;  // gone in v2
};
}  // namespace v1
namespace v2 {
struct payment {
  std::string id;
  std::int64_t cents = 0;        // int -> long
  std::string currency = "EUR";  // new, with a default
};
}  // namespace v2
BOOST_HANA_ADAPT_STRUCT(v1::payment, id, cents, note);
BOOST_HANA_ADAPT_STRUCT(v2::payment, id, cents, currency);

namespace {

using rill::registry::subject_strategy;

const rill::serde_context value_ctx{.topic = "orders"};

rill::bytes encode(const auto& serde, const auto& v, const rill::serde_context& ctx = value_ctx) {
  rill::bytes out;
  serde.serialize(v, out, ctx);
  return out;
}

std::string read_error(const auto& serde, rill::bytes_view b) {
  try {
    serde.deserialize(b, value_ctx);
  } catch (const rill::serde_error& e) {
    return e.what();
  }
  return "(no serde_error)";
}

shop::order sample() {
  return {"o1", 12.5, -3, "WELCOME", {{"a", 1}, {"b", 2}}, {{"channel", 7}}, true};
}

}  // namespace

TEST(avro_serde, derives_the_schema_from_the_struct_with_its_defaults) {
  rill::avro_serde<shop::order> serde(rill::registry::in_memory());
  EXPECT_EQ(serde.record_name(), "shop.order");
  EXPECT_EQ(serde.schema(),
            R"({"type":"record","name":"order","namespace":"shop","fields":[)"
            R"({"name":"id","type":"string","default":""},)"
            R"({"name":"amount","type":"double","default":0.0},)"
            R"({"name":"qty","type":"int","default":1},)"
            R"({"name":"coupon","type":["null","string"],"default":null},)"
            R"({"name":"items","type":{"type":"array","items":{"type":"record","name":"line_item",)"
            R"("namespace":"shop","fields":[{"name":"sku","type":"string","default":""},)"
            R"({"name":"qty","type":"int","default":0}]}},"default":[]},)"
            R"({"name":"tags","type":{"type":"map","values":"long"},"default":{}},)"
            R"({"name":"paid","type":"boolean","default":false}]})");
}

TEST(avro_serde, writes_confluents_header_then_avros_binary_encoding) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<v2::payment> serde(reg);
  const rill::bytes b = encode(serde, v2::payment{"p", -2, "€"});
  const int id = reg->lookup("orders-value", {"AVRO", serde.schema(), {}})->id;
  // 0, id (big-endian), "p" (length 1 zigzag = 2), -2 (zigzag 3), "€" (3 bytes, zigzag 6).
  const rill::bytes expected{std::byte{0},  std::byte{0},    std::byte{0},    std::byte{0},
                             std::byte(id), std::byte{2},    std::byte{'p'},  std::byte{3},
                             std::byte{6},  std::byte{0xe2}, std::byte{0x82}, std::byte{0xac}};
  EXPECT_EQ(b, expected);
  EXPECT_EQ(serde.deserialize(b, value_ctx).currency, "€");
}

TEST(avro_serde, reads_back_what_it_wrote) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<shop::order> serde(reg);
  const shop::order o = sample();
  const shop::order back = serde.deserialize(encode(serde, o), value_ctx);
  EXPECT_EQ(back.id, o.id);
  EXPECT_EQ(back.amount, o.amount);
  EXPECT_EQ(back.qty, o.qty);
  EXPECT_EQ(back.coupon, o.coupon);
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[1].sku, "b");
  EXPECT_EQ(back.items[1].qty, 2);
  EXPECT_EQ(back.tags, o.tags);
  EXPECT_TRUE(back.paid);
  shop::order empty;
  const shop::order empty_back = serde.deserialize(encode(serde, empty), value_ctx);
  EXPECT_FALSE(empty_back.coupon.has_value());
  EXPECT_TRUE(empty_back.items.empty());
}

TEST(avro_serde, round_trips_through_a_registry_over_https) {
  rill::test::test_certificates certs;
  rill::test::registry_server server(certs.serving("server"));
  const rill::registry::tls_settings tls{.ca_location = certs.file("ca.pem")};
  rill::avro_serde<shop::order> writer(
      rill::registry::connect({.url = server.url(), .auto_register = true, .tls = tls}));
  const rill::bytes b = encode(writer, sample());
  // Another client, its caches empty: the writer's schema comes over HTTPS by its id.
  auto reg = rill::registry::connect({.url = server.url(), .tls = tls});
  rill::avro_serde<shop::order> reader(reg);
  const shop::order back = reader.deserialize(b, value_ctx);
  EXPECT_EQ(back.id, "o1");
  EXPECT_EQ(back.coupon, "WELCOME");
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[1].sku, "b");
  EXPECT_EQ(back.tags, sample().tags);
  EXPECT_EQ(reg->by_version("orders-value", -1).schema.text, writer.schema());
}

TEST(avro_serde, resolves_old_and_new_writers_to_the_readers_struct) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect({.url = server.url(), .auto_register = true});
  rill::avro_serde<v1::payment> old_serde(reg);
  rill::avro_serde<v2::payment> new_serde(reg);
  // v1 first; v2 adds a field with a default, drops one and widens int to long: BACKWARD.
  const rill::bytes old_bytes = encode(old_serde, v1::payment{"p1", 250, "thanks"});
  const rill::bytes new_bytes = encode(new_serde, v2::payment{"p2", 5'000'000'000, "USD"});
  EXPECT_NE(rill::registry::wire::read_header(old_bytes, ""),
            rill::registry::wire::read_header(new_bytes, ""));
  EXPECT_EQ(reg->by_version("orders-value", 2).schema.text, new_serde.schema());

  const v2::payment upgraded = new_serde.deserialize(old_bytes, value_ctx);
  EXPECT_EQ(upgraded.id, "p1");
  EXPECT_EQ(upgraded.cents, 250);
  EXPECT_EQ(upgraded.currency, "EUR") << "the reader's default for a field the writer lacks";

  const v1::payment downgraded =
      old_serde.deserialize(encode(new_serde, v2::payment{"p3", 70, "USD"}), value_ctx);
  EXPECT_EQ(downgraded.id, "p3");
  EXPECT_EQ(downgraded.cents, 70);
  EXPECT_EQ(downgraded.note, "") << "a field the writer lacks";
  EXPECT_EQ(read_error(old_serde, new_bytes),
            "rill::avro_serde<v1::payment>: cannot read a value from topic 'orders': field "
            "'cents': the value 5000000000 is out of the member's range");
}

TEST(avro_serde, names_subjects_by_the_configured_strategy) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect({.url = server.url(),
                                      .auto_register = true,
                                      .key_strategy = subject_strategy::record_name,
                                      .value_strategy = subject_strategy::topic_record_name});
  rill::avro_serde<shop::order> serde(reg);
  encode(serde, sample());
  encode(serde, sample(), {.topic = "orders", .is_key = true});
  EXPECT_EQ(reg->by_version("orders-shop.order", 1).schema.text, serde.schema());
  EXPECT_EQ(reg->by_version("shop.order", 1).schema.text, serde.schema());
}

TEST(avro_serde, without_auto_register_writes_only_a_registered_schema) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect({.url = server.url()});
  rill::avro_serde<shop::order> serde(reg);
  try {
    encode(serde, sample());
    FAIL() << "wrote under a subject that has no such schema";
  } catch (const rill::serde_error& e) {
    EXPECT_STREQ(e.what(),
                 "rill::avro_serde<shop::order>: cannot write a value to topic 'orders': the "
                 "schema of shop.order is not registered under subject 'orders-value' and "
                 "auto_register is off; register it (or turn auto_register on)");
  }
  const int id = reg->register_schema("orders-value", {"AVRO", serde.schema(), {}});
  EXPECT_EQ(rill::registry::wire::read_header(encode(serde, sample()), ""), id);
}

TEST(avro_serde, goes_on_with_cached_schemas_while_the_registry_is_down) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect(
      {.url = server.url(), .auto_register = true, .timeout = std::chrono::seconds(2)});
  rill::avro_serde<v1::payment> writer(reg);
  rill::avro_serde<v2::payment> reader(reg);
  const rill::bytes first = encode(writer, v1::payment{"p1", 1, ""});
  reader.deserialize(first, value_ctx);
  server.stop();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reader.deserialize(encode(writer, v1::payment{"p", i, ""}), value_ctx).cents, i);
  }
  rill::bytes unknown = first;
  unknown[4] = std::byte{99};
  const std::string what = read_error(reader, unknown);
  EXPECT_NE(what.find("registry: fetch schema id 99: cannot connect to"), std::string::npos)
      << what;
}

TEST(avro_serde, bad_records_are_serde_errors_that_say_why) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<v2::payment> serde(reg);
  const rill::bytes good = encode(serde, v2::payment{"p1", 3, "EUR"});
  const std::string prefix =
      "rill::avro_serde<v2::payment>: cannot read a value from topic 'orders': ";
  rill::bytes wrong_magic = good;
  wrong_magic[0] = std::byte{7};
  EXPECT_EQ(read_error(serde, wrong_magic),
            prefix +
                "the record: unknown magic byte 7, expected 0 (not written by a "
                "schema-registry serializer)");
  rill::bytes unknown_id = good;
  unknown_id[3] = std::byte{1};
  EXPECT_EQ(read_error(serde, unknown_id),
            prefix + "registry: fetch schema id 257: HTTP 404 (error 40403): Schema 257 not found");
  const rill::bytes truncated(good.begin(), good.end() - 2);
  EXPECT_EQ(read_error(serde, truncated),
            prefix + "field 'currency': a length of 3 runs past the end of the record");
  rill::bytes longer = good;
  longer.push_back(std::byte{0});
  EXPECT_EQ(read_error(serde, longer), prefix + "1 bytes are left over after the record");

  const int other = reg->register_schema(
      "other", {"AVRO",
                R"({"type":"record","name":"payment","fields":[{"name":"cents","type":"string"}]})",
                {}});
  rill::bytes mismatched;
  rill::registry::wire::write_header(mismatched, other);
  mismatched.push_back(std::byte{2});
  mismatched.push_back(std::byte{'x'});
  EXPECT_EQ(read_error(serde, mismatched),
            prefix + "field 'cents': the writer's string does not resolve to int64_t");
  const int proto = reg->register_schema("p", {"PROTOBUF", "message M {}", {}});
  rill::bytes not_avro;
  rill::registry::wire::write_header(not_avro, proto);
  EXPECT_EQ(read_error(serde, not_avro),
            prefix + "schema id " + std::to_string(proto) + " is a PROTOBUF schema, not Avro");
}

TEST(avro_serde, damaged_records_never_crash_the_reader) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<shop::order> serde(reg);
  const rill::bytes good = encode(serde, sample());
  std::mt19937 rng(14);
  int errors = 0;
  for (int i = 0; i < 20'000; ++i) {
    rill::bytes b = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rill::registry::wire::header_size + rng() % (b.size() - 5);
      switch (rng() % 3) {
        case 0:
          b[at] = std::byte(rng());
          break;
        case 1:
          b.resize(at);
          break;
        default:
          b.insert(b.begin() + at, std::byte(rng()));
          break;
      }
      if (b.size() <= rill::registry::wire::header_size) break;
    }
    try {
      serde.deserialize(b, value_ctx);
    } catch (const rill::serde_error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 10'000);
}

TEST(avro_serde, a_bad_record_reaches_the_dead_letter_topic_with_the_reason) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::avro_serde<v2::payment> serde(reg);
  rill::streams_builder b;
  b.stream<std::string, v2::payment>("payments", {.value_serde = serde})
      .map_values([](const v2::payment& p) { return p.id; })
      .to("payment-ids");
  rill::testing::test_driver d(
      b.build(), {.config = {{"default.deserialization.exception.handler", "dead_letter"},
                             {"errors.dead.letter.queue.topic.name", "payments-dlq"}}});
  auto in =
      d.input_topic<std::string, v2::payment>("payments", rill::serdes::string_serde{}, serde);
  in.pipe("k1", v2::payment{"p1", 1, "EUR"});
  d.pipe_raw("payments", -1, rill::to_bytes("k2"), rill::to_bytes("not avro"), {}, 0);
  in.pipe("k3", v2::payment{"p3", 3, "EUR"});
  EXPECT_EQ((d.output_topic<std::string, std::string>("payment-ids").read_values_to_list()),
            (std::vector<std::string>{"p1", "p3"}));
  auto dlq = d.output_topic<std::string, rill::bytes>("payments-dlq").read_records_to_list();
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].value, rill::to_bytes("not avro"));
  EXPECT_EQ(dlq[0].headers.get("__streams.errors.message"),
            "rill::avro_serde<v2::payment>: cannot read a value from topic 'payments': the "
            "record: unknown magic byte 110, expected 0 (not written by a schema-registry "
            "serializer)");
}
