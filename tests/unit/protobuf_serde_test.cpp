// rill::protobuf_serde: Confluent's framing with the message-index list, the .proto text and
// its references in the registry, evolution, and bad records as serde errors.
#include <gtest/gtest.h>

#include <random>

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <money.pb.h>
#include <shop.pb.h>

#include <rill/avro.hpp>
#include <rill/protobuf.hpp>

#include "../registry/registry_server.hpp"

namespace {

namespace gp = google::protobuf;
using rill::test::Order;
using rill::test::Refund;

const rill::serde_context value_ctx{.topic = "orders"};

// libprotobuf logs every string field with invalid UTF-8 it refuses; the damaged records
// below have thousands. (An application can install such a handler too.)
[[maybe_unused]] const bool quiet = [] {
  gp::SetLogHandler([](gp::LogLevel, const char*, int, const std::string&) {});
  return true;
}();

template <class S, class V>
rill::bytes encode(const S& serde, const V& v) {
  rill::bytes out;
  serde.serialize(v, out, value_ctx);
  return out;
}

template <class S>
std::string read_error(const S& serde, rill::bytes_view b) {
  try {
    serde.deserialize(b, value_ctx);
  } catch (const rill::serde_error& e) {
    return e.what();
  }
  return "(no serde_error)";
}

Order sample() {
  Order o;
  o.set_id("o1");
  o.set_customer("ada");
  o.mutable_total()->set_currency("EUR");
  o.mutable_total()->set_units(250);
  auto* line = o.add_lines();
  line->set_sku("tea");
  line->set_qty(2);
  return o;
}

rill::bytes after_header(const rill::bytes& b, std::size_t n) {
  return rill::bytes(b.begin() + 5, b.begin() + 5 + n);
}

}  // namespace

TEST(protobuf_serde, frames_the_message_index_list_and_reads_back_what_it_wrote) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::protobuf_serde<Order> orders(reg);
  rill::protobuf_serde<Refund> refunds(reg);
  rill::protobuf_serde<Order::Line> lines(reg);
  const rill::bytes o = encode(orders, sample());
  EXPECT_EQ(o[0], std::byte{0});
  EXPECT_EQ(after_header(o, 1), rill::bytes{std::byte{0}}) << "the first message: [0] as 0";
  EXPECT_EQ(rill::bytes(o.begin() + 6, o.end()), rill::to_bytes(sample().SerializeAsString()));
  EXPECT_EQ(orders.deserialize(o, value_ctx).SerializeAsString(), sample().SerializeAsString());

  Refund r;
  r.set_order_id("o1");
  const rill::bytes rb = encode(refunds, r);
  EXPECT_EQ(after_header(rb, 2), (rill::bytes{std::byte{2}, std::byte{2}})) << "[1]";
  EXPECT_EQ(refunds.deserialize(rb, value_ctx).order_id(), "o1");

  Order::Line l;
  l.set_sku("tea");
  const rill::bytes lb = encode(lines, l);
  EXPECT_EQ(after_header(lb, 3), (rill::bytes{std::byte{4}, std::byte{0}, std::byte{0}}))
      << "[0, 0]";
  EXPECT_EQ(lines.deserialize(lb, value_ctx).sku(), "tea");
  EXPECT_EQ(read_error(orders, rb),
            "rill::protobuf_serde<rill.test.Order>: cannot read a value from topic 'orders': "
            "the record holds a rill.test.Refund, not a rill.test.Order");
}

TEST(protobuf_serde, registers_the_proto_text_with_a_reference_per_import) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect({.url = server.url(), .auto_register = true});
  rill::protobuf_serde<Order> orders(reg);
  const int id = rill::registry::wire::read_header(encode(orders, sample()), "");
  const rill::registry::schema registered = reg->by_id(id);
  EXPECT_EQ(registered.type, "PROTOBUF");
  EXPECT_EQ(registered.text, Order::descriptor()->file()->DebugString());
  EXPECT_NE(registered.text.find("import \"money.proto\";"), std::string::npos);
  EXPECT_EQ(registered.references,
            (std::vector<rill::registry::reference>{{"money.proto", "money.proto", 1}}));
  const auto money = reg->by_version("money.proto", 1);
  EXPECT_EQ(money.schema.text, rill::test::Money::descriptor()->file()->DebugString());
  EXPECT_EQ(reg->by_version("orders-value", -1).id, id);
}

TEST(protobuf_serde, without_auto_register_an_unregistered_import_is_named) {
  rill::test::registry_server server;
  auto reg = rill::registry::connect({.url = server.url()});
  rill::protobuf_serde<Order> orders(reg);
  try {
    encode(orders, sample());
    FAIL() << "wrote without a registered schema";
  } catch (const rill::serde_error& e) {
    EXPECT_STREQ(e.what(),
                 "rill::protobuf_serde<rill.test.Order>: cannot write a value to topic 'orders': "
                 "the import money.proto is not registered under subject 'money.proto' and "
                 "auto_register is off");
  }
}

TEST(protobuf_serde, reads_records_of_a_newer_schema_with_an_added_field) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  // A newer Order, as another service has it: field 9 `note` added.
  gp::FileDescriptorProto money_file;
  gp::FileDescriptorProto shop_file;
  rill::test::Money::descriptor()->file()->CopyTo(&money_file);
  Order::descriptor()->file()->CopyTo(&shop_file);
  auto* note = shop_file.mutable_message_type(0)->add_field();
  note->set_name("note");
  note->set_number(9);
  note->set_type(gp::FieldDescriptorProto::TYPE_STRING);
  note->set_label(gp::FieldDescriptorProto::LABEL_OPTIONAL);
  gp::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(money_file), nullptr);
  const gp::FileDescriptor* v2 = pool.BuildFile(shop_file);
  ASSERT_NE(v2, nullptr);
  const int money = reg->register_schema("money.proto", {"PROTOBUF", money_file.DebugString(), {}});
  (void)money;
  const int id = reg->register_schema(
      "orders-value", {"PROTOBUF", v2->DebugString(), {{"money.proto", "money.proto", 1}}});

  gp::DynamicMessageFactory factory(&pool);
  std::unique_ptr<gp::Message> m(factory.GetPrototype(v2->message_type(0))->New());
  m->GetReflection()->SetString(m.get(), v2->message_type(0)->FindFieldByName("id"), "o9");
  m->GetReflection()->SetString(m.get(), v2->message_type(0)->FindFieldByName("note"), "fragile");
  rill::bytes b;
  rill::registry::wire::write_header(b, id);
  b.push_back(std::byte{0});
  rill::append(b, m->SerializeAsString());

  rill::protobuf_serde<Order> orders(reg);
  const Order read = orders.deserialize(b, value_ctx);
  EXPECT_EQ(read.id(), "o9");
  EXPECT_EQ(read.customer(), "") << "a field the writer did not send";
  EXPECT_NE(read.SerializeAsString().find("fragile"), std::string::npos)
      << "the field Order does not know is kept as an unknown field";
}

TEST(protobuf_serde, bad_records_are_serde_errors_that_say_why) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::protobuf_serde<Order> orders(reg);
  const rill::bytes good = encode(orders, sample());
  const std::string prefix =
      "rill::protobuf_serde<rill.test.Order>: cannot read a value from topic 'orders': ";
  rill::bytes wrong_magic = good;
  wrong_magic[0] = std::byte{1};
  EXPECT_EQ(read_error(orders, wrong_magic),
            prefix +
                "the record: unknown magic byte 1, expected 0 (not written by a "
                "schema-registry serializer)");
  rill::bytes unknown = good;
  unknown[2] = std::byte{1};
  EXPECT_EQ(read_error(orders, unknown),
            prefix +
                "registry: fetch schema id 65538: HTTP 404 (error 40403): Schema 65538 not "
                "found");
  rill::bytes garbage(good.begin(), good.begin() + 6);
  rill::append(garbage, std::string_view("\xff\xff\xff", 3));
  EXPECT_EQ(read_error(orders, garbage),
            prefix + "the 3-byte payload does not parse as rill.test.Order");
  rill::bytes far_index(good.begin(), good.begin() + 5);
  far_index.push_back(std::byte{2});
  far_index.push_back(std::byte{40});
  EXPECT_EQ(read_error(orders, far_index),
            prefix + "the message-index list names message 20 of 2 in the writer's schema");
  struct record {
    std::string id;
  };
  const int avro = reg->register_schema("a", {"AVRO", R"("string")", {}});
  rill::bytes avro_record;
  rill::registry::wire::write_header(avro_record, avro);
  avro_record.push_back(std::byte{0});
  EXPECT_EQ(read_error(orders, avro_record),
            prefix + "schema id " + std::to_string(avro) + " is a AVRO schema, not Protobuf");
  const int bad = reg->register_schema("b", {"PROTOBUF", "syntax = \"proto3\";\nmessage {", {}});
  rill::bytes bad_schema;
  rill::registry::wire::write_header(bad_schema, bad);
  bad_schema.push_back(std::byte{0});
  EXPECT_EQ(
      read_error(orders, bad_schema)
          .rfind(prefix + "schema id " + std::to_string(bad) + " is not valid .proto text: line 2:",
                 0),
      0u)
      << read_error(orders, bad_schema);
}

TEST(protobuf_serde, damaged_records_never_crash_the_reader) {
  auto reg = rill::registry::in_memory({.auto_register = true});
  rill::protobuf_serde<Order> orders(reg);
  const rill::bytes good = encode(orders, sample());
  std::mt19937 rng(14);
  for (int i = 0; i < 20'000; ++i) {
    rill::bytes b = good;
    const std::size_t at = 5 + rng() % (b.size() - 5);
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
    try {
      orders.deserialize(b, value_ctx);
    } catch (const rill::serde_error&) {
    }
  }
}
