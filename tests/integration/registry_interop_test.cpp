// Rill's schema-registry serdes against clients they share no code with: kafkajs and
// @kafkajs/confluent-schema-registry (Node.js; tests/registry/js/interop.js), on the same
// test registry; Avro and Protobuf both ways, schema evolution, and a topology on the
// embedded broker between two kafkajs clients.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <shipment.pb.h>
#include <rill/avro.hpp>
#include <rill/protobuf.hpp>
#include <rill/rill.hpp>

#include "../registry/registry_server.hpp"
#include "harness.hpp"

namespace interop_v1 {
struct payment {
  std::string id;
  std::int32_t cents = 0;
  std::string note;
};
}  // namespace interop_v1
namespace interop_v2 {
struct payment {  // v1 with note dropped and currency added
  std::string id;
  std::int32_t cents = 0;
  std::string currency = "EUR";
};
struct line {
  std::string sku;
  std::int32_t qty = 0;
};
struct order {
  std::string id;
  std::string customer;
  double amount = 0;
  std::vector<line> lines;
};
}  // namespace interop_v2
BOOST_HANA_ADAPT_STRUCT(interop_v1::payment, id, cents, note);
BOOST_HANA_ADAPT_STRUCT(interop_v2::payment, id, cents, currency);
BOOST_HANA_ADAPT_STRUCT(interop_v2::line, sku, qty);
BOOST_HANA_ADAPT_STRUCT(interop_v2::order, id, customer, amount, lines);

using namespace rill::test;
using rill::interop::Shipment;

namespace {

// The payment schema as the Node.js service declares it (version 1).
const char* payment_v1_schema =
    R"({"type":"record","name":"payment","namespace":"rill.interop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"cents","type":"int"},)"
    R"({"name":"note","type":"string","default":""}]})";
// Orders as the Node.js producer writes them: with a field Rill's struct lacks (channel) and
// the amount as a float, which Rill's struct reads into a double.
const char* order_schema =
    R"({"type":"record","name":"order","namespace":"rill.interop","fields":[)"
    R"({"name":"id","type":"string"},{"name":"customer","type":"string"},)"
    R"({"name":"channel","type":"string"},{"name":"amount","type":"float"},)"
    R"({"name":"lines","type":{"type":"array","items":{"type":"record","name":"line",)"
    R"("fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}}]})";

const rill::serde_context payments{.topic = "payments"};
const rill::serde_context shipments{.topic = "shipments"};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/" + unique(name);
  std::ofstream(path) << text;
  return path;
}

// Runs interop.js with `input` on stdin, bounded by `seconds`; returns stdout, and the exit
// code and stderr through `status`.
std::string node(const std::string& args, const std::string& input, std::string& status,
                 int seconds = 60) {
  const std::string in = write_file("node-in", input);
  const std::string out = in + ".out";
  const std::string err = in + ".err";
  const std::string cmd = "NODE_PATH=" RILL_NPM_DIR "/node_modules timeout " +
                          std::to_string(seconds) + " /usr/bin/node " INTEROP_SCRIPT " " + args +
                          " < " + in + " > " + out + " 2> " + err;
  const int rc = std::system(cmd.c_str());
  status = "exit " + std::to_string(WEXITSTATUS(rc)) + ": " + slurp(err);
  return slurp(out);
}

std::string hex(const rill::bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::byte x : b) {
    out += digits[static_cast<int>(x) >> 4];
    out += digits[static_cast<int>(x) & 15];
  }
  return out;
}

rill::bytes unhex(const std::string& s) {
  rill::bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(static_cast<std::byte>(std::stoi(s.substr(i, 2), nullptr, 16)));
  return out;
}

class registry_interop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::ifstream(RILL_NPM_DIR "/node_modules/kafkajs/package.json").good())
        << "kafkajs is not installed in " RILL_NPM_DIR "; run scripts/setup.sh";
  }
  registry_server server;
  std::string status;
};

}  // namespace

TEST_F(registry_interop, avro_both_ways_with_an_evolved_schema) {
  auto reg = rill::registry::connect({.url = server.url(), .auto_register = true});
  const std::string v1_file = write_file("payment-v1.avsc", payment_v1_schema);
  // Node.js writes version 1; Rill's version-2 struct reads it (currency from its default).
  const auto written =
      split_lines(node("avro-encode " + server.url() + " payments-value " + v1_file,
                       R"({"id":"p1","cents":250,"note":"thanks"})"
                       "\n"
                       R"({"id":"p2","cents":-7,"note":""})",
                       status));
  ASSERT_EQ(written.size(), 2u) << status;
  rill::avro_serde<interop_v2::payment> v2(reg, "rill.interop.payment");
  rill::avro_serde<interop_v1::payment> v1(reg, "rill.interop.payment");
  const auto p1 = v2.deserialize(unhex(written[0]), payments);
  EXPECT_EQ(p1.id, "p1");
  EXPECT_EQ(p1.cents, 250);
  EXPECT_EQ(p1.currency, "EUR");
  EXPECT_EQ(v2.deserialize(unhex(written[1]), payments).cents, -7);
  EXPECT_EQ(v1.deserialize(unhex(written[0]), payments).note, "thanks");

  // Rill writes version 2 (registered as the subject's second version); Node.js reads it
  // with the writer's schema, and with its own version 1 as reader schema.
  rill::bytes b;
  v2.serialize({"p3", 99, "USD"}, b, payments);
  EXPECT_EQ(reg->by_version("payments-value", 2).schema.text, v2.schema());
  EXPECT_EQ(node("decode " + server.url(), hex(b), status),
            R"({"id":"p3","cents":99,"currency":"USD"})"
            "\n")
      << status;
  EXPECT_EQ(node("decode " + server.url() + " " + v1_file, hex(b), status),
            R"({"id":"p3","cents":99,"note":""})"
            "\n")
      << status;
}

TEST_F(registry_interop, protobuf_both_ways_with_an_evolved_schema) {
  auto reg = rill::registry::connect({.url = server.url(), .auto_register = true});
  rill::protobuf_serde<Shipment> serde(reg);
  Shipment s;
  s.set_order_id("o1");
  s.set_customer("ada");
  s.set_amount(12.5);
  s.set_items(3);
  rill::bytes b;
  serde.serialize(s, b, shipments);
  EXPECT_EQ(node("decode " + server.url(), hex(b), status),
            R"({"orderId":"o1","customer":"ada","amount":12.5,"items":3})"
            "\n")
      << status;

  // Node.js registers its own .proto text, and later a version with a field Rill's class
  // lacks; Rill reads both.
  const auto v1 = split_lines(
      node("proto-encode " + server.url() + " shipments-value " + PROTO_DIR "/shipment.proto",
           R"({"orderId":"o2","customer":"bob","amount":1.25,"items":1})", status));
  ASSERT_EQ(v1.size(), 1u) << status;
  const Shipment o2 = serde.deserialize(unhex(v1[0]), shipments);
  EXPECT_EQ(o2.order_id(), "o2");
  EXPECT_EQ(o2.customer(), "bob");
  EXPECT_EQ(o2.amount(), 1.25);
  EXPECT_EQ(o2.items(), 1);
  std::string v2_text = slurp(PROTO_DIR "/shipment.proto");
  v2_text.replace(v2_text.rfind('}'), 1, "  string carrier = 5;\n}\n");
  const auto v2 = split_lines(node("proto-encode " + server.url() + " shipments-value " +
                                       write_file("shipment-v2.proto", v2_text),
                                   R"({"orderId":"o3","items":2,"carrier":"dhl"})", status));
  ASSERT_EQ(v2.size(), 1u) << status;
  EXPECT_NE(rill::registry::wire::read_header(unhex(v2[0]), ""),
            rill::registry::wire::read_header(unhex(v1[0]), ""));
  const Shipment o3 = serde.deserialize(unhex(v2[0]), shipments);
  EXPECT_EQ(o3.order_id(), "o3");
  EXPECT_EQ(o3.items(), 2);
  EXPECT_NE(o3.SerializeAsString().find("dhl"), std::string::npos) << "kept as unknown field";
}

TEST_F(registry_interop, a_topology_reads_avro_from_kafkajs_and_writes_protobuf_kafkajs_reads) {
  cluster c;
  const std::string in = unique("orders-avro");
  const std::string out = unique("shipments-proto");
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  auto reg = rill::registry::connect({.url = server.url(), .auto_register = true});
  rill::streams_builder b;
  b.stream<std::string, interop_v2::order>(
       in, {.value_serde = rill::avro_serde<interop_v2::order>(reg, "rill.interop.order")})
      .map_values([](const interop_v2::order& o) {
        Shipment s;
        s.set_order_id(o.id);
        s.set_customer(o.customer);
        s.set_amount(o.amount);
        for (const auto& l : o.lines) s.set_items(s.items() + l.qty);
        return s;
      })
      .to(out, {.key_serde = rill::serdes::string_serde{},
                .value_serde = rill::protobuf_serde<Shipment>(reg)});
  rill::streams_app app(b.build(), c.app_config(unique("registry-interop")));
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));

  const int n = 20;  // a few KiB on the embedded broker
  std::string input;
  for (int i = 0; i < n; ++i) {
    input += R"({"key":"o)" + std::to_string(i) + R"(","value":{"id":"o)" + std::to_string(i) +
             R"(","customer":"c)" + std::to_string(i % 3) + R"(","channel":"web","amount":)" +
             std::to_string(i) + R"(.5,"lines":[{"sku":"a","qty":1},{"sku":"b","qty":)" +
             std::to_string(i) + "}]}}\n";
  }
  const std::string schema_file = write_file("order.avsc", order_schema);
  EXPECT_EQ(node("produce " + c.bootstrap() + " " + server.url() + " " + in + " " + in + "-value " +
                     schema_file,
                 input, status),
            "produced 20\n")
      << status;
  const auto got = split_lines(node("consume " + c.bootstrap() + " " + server.url() + " " + out +
                                        " " + std::to_string(n) + " 90000",
                                    "", status, 120));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n)) << status;
  for (int i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    const std::string expected = R"({"key":"o)" + id + R"(","value":{"orderId":"o)" + id +
                                 R"(","customer":"c)" + std::to_string(i % 3) + R"(","amount":)" +
                                 id + R"(.5,"items":)" + std::to_string(i + 1) + "}}";
    EXPECT_NE(std::find(got.begin(), got.end(), expected), got.end()) << expected;
  }
  app.close();
}
