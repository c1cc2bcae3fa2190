// Encode and decode cost per record of the schema-registry serdes against the JSON serde,
// on one record: the order of json_libs.cpp (382 bytes as JSON) as a Hana struct for
// rill::avro_serde and rill::json_serde, and as the protoc-generated bench::Order for
// rill::protobuf_serde. The registry is in memory and every schema is cached after the
// first record, as in a running service. Baselines from the same run: copying the struct
// and the message (the floor under any decode), and protobuf's own SerializeToArray /
// ParseFromArray without the registry framing. Each serde is checked to read back what it
// wrote before timing.
//
// Build by hand from the repository root (benchmarks/RESULTS.md has the figures):
//   protoc --cpp_out=/tmp -Ibenchmarks/proto benchmarks/proto/bench_order.proto
//   g++ -std=c++20 -O3 -DNDEBUG -I. -Iinclude -I/tmp benchmarks/registry_serdes.cpp
//       /tmp/bench_order.pb.cc src/registry/*.cpp src/serde/json_read.cpp
//       src/serde/json_write.cpp -lbenchmark -lavro -lprotobuf -lsimdjson -lpthread
//       -o /tmp/registry_serdes
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <bench_order.pb.h>
#include <google/protobuf/util/message_differencer.h>

#include <rill/avro.hpp>
#include <rill/json.hpp>
#include <rill/protobuf.hpp>

namespace bench_struct {
struct address {
  std::string street;
  std::string city;
  std::string zip;
  std::string country;
  bool operator==(const address&) const = default;
};
struct line_item {
  std::string sku;
  int qty = 0;
  double price = 0;
  bool operator==(const line_item&) const = default;
};
struct order {
  std::string id;
  std::string customer;
  double amount = 0;
  std::string currency;
  address shipping;
  std::vector<line_item> items;
  std::optional<std::string> coupon;
  std::map<std::string, std::string> tags;
  bool gift = false;
  bool operator==(const order&) const = default;
};
}  // namespace bench_struct
BOOST_HANA_ADAPT_STRUCT(bench_struct::address, street, city, zip, country);
BOOST_HANA_ADAPT_STRUCT(bench_struct::line_item, sku, qty, price);
BOOST_HANA_ADAPT_STRUCT(bench_struct::order, id, customer, amount, currency, shipping, items,
                        coupon, tags, gift);

namespace {

const rill::serde_context ctx{.topic = "orders"};

bench_struct::order make_struct() {
  return {"ord-2024-000123456",
          "cust-00042",
          292.73,
          "EUR",
          {"221B Baker Street", "London", "NW1 6XE", "GB"},
          {{"SKU-1001", 2, 19.99}, {"SKU-2002", 1, 233.0}, {"SKU-3003", 5, 3.95}},
          "SPRING10",
          {{"channel", "web"}, {"region", "eu-west"}},
          false};
}

bench::Order make_message() {
  const bench_struct::order s = make_struct();
  bench::Order m;
  m.set_id(s.id);
  m.set_customer(s.customer);
  m.set_amount(s.amount);
  m.set_currency(s.currency);
  m.mutable_shipping()->set_street(s.shipping.street);
  m.mutable_shipping()->set_city(s.shipping.city);
  m.mutable_shipping()->set_zip(s.shipping.zip);
  m.mutable_shipping()->set_country(s.shipping.country);
  for (const auto& i : s.items) {
    auto* item = m.add_items();
    item->set_sku(i.sku);
    item->set_qty(i.qty);
    item->set_price(i.price);
  }
  m.set_coupon(*s.coupon);
  for (const auto& [k, v] : s.tags) (*m.mutable_tags())[k] = v;
  m.set_gift(s.gift);
  return m;
}

std::shared_ptr<rill::registry::client> registry() {
  static auto reg = rill::registry::in_memory({.auto_register = true});
  return reg;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "WRONG: %s does not read back what it wrote\n", what);
    std::exit(1);
  }
}

template <class S, class V>
void encode(benchmark::State& state, const S& serde, const V& v) {
  rill::bytes out;
  for (auto _ : state) {
    out.clear();
    serde.serialize(v, out, ctx);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
  state.SetItemsProcessed(state.iterations());
}

template <class S, class V>
void decode(benchmark::State& state, const S& serde, const V& v) {
  rill::bytes in;
  serde.serialize(v, in, ctx);
  for (auto _ : state) {
    auto back = serde.deserialize(in, ctx);
    benchmark::DoNotOptimize(back);
  }
  state.counters["bytes"] = static_cast<double>(in.size());
  state.SetItemsProcessed(state.iterations());
}

void copy_struct(benchmark::State& state) {
  const bench_struct::order o = make_struct();
  for (auto _ : state) {
    bench_struct::order c = o;
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void copy_message(benchmark::State& state) {
  const bench::Order m = make_message();
  for (auto _ : state) {
    bench::Order c = m;
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void avro_encode(benchmark::State& s) {
  encode(s, rill::avro_serde<bench_struct::order>(registry()), make_struct());
}
void avro_decode(benchmark::State& s) {
  decode(s, rill::avro_serde<bench_struct::order>(registry()), make_struct());
}
void json_encode(benchmark::State& s) {
  encode(s, rill::json_serde<bench_struct::order>{}, make_struct());
}
void json_decode(benchmark::State& s) {
  decode(s, rill::json_serde<bench_struct::order>{}, make_struct());
}
void protobuf_encode(benchmark::State& s) {
  encode(s, rill::protobuf_serde<bench::Order>(registry()), make_message());
}
void protobuf_decode(benchmark::State& s) {
  decode(s, rill::protobuf_serde<bench::Order>(registry()), make_message());
}

void protobuf_plain_encode(benchmark::State& state) {
  const bench::Order m = make_message();
  std::string out;
  for (auto _ : state) {
    out.clear();
    m.SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void protobuf_plain_decode(benchmark::State& state) {
  const std::string in = make_message().SerializeAsString();
  for (auto _ : state) {
    bench::Order m;
    benchmark::DoNotOptimize(m.ParseFromString(in));
  }
  state.SetItemsProcessed(state.iterations());
}

const bool checked = [] {
  rill::bytes b;
  rill::avro_serde<bench_struct::order> avro(registry());
  avro.serialize(make_struct(), b, ctx);
  check(avro.deserialize(b, ctx) == make_struct(), "avro_serde");
  b.clear();
  rill::json_serde<bench_struct::order> json;
  json.serialize(make_struct(), b, ctx);
  check(json.deserialize(b, ctx) == make_struct(), "json_serde");
  b.clear();
  rill::protobuf_serde<bench::Order> protobuf(registry());
  protobuf.serialize(make_message(), b, ctx);
  check(google::protobuf::util::MessageDifferencer::Equals(protobuf.deserialize(b, ctx),
                                                           make_message()),
        "protobuf_serde");
  return true;
}();

}  // namespace

BENCHMARK(copy_struct);
BENCHMARK(copy_message);
BENCHMARK(avro_encode);
BENCHMARK(avro_decode);
BENCHMARK(protobuf_encode);
BENCHMARK(protobuf_decode);
BENCHMARK(protobuf_plain_encode);
BENCHMARK(protobuf_plain_decode);
BENCHMARK(json_encode);
BENCHMARK(json_decode);
BENCHMARK_MAIN();
