// A program of a user of the installed package: built out of tree against an install
// prefix, once through find_package(rill) and once through pkg-config (tests/install/).
#include <cstdint>
#include <iostream>
#include <string>

#include <rill/rill.hpp>
#ifdef WITH_TESTING
#include <rill/testing/test_driver.hpp>
#endif

struct order {
  std::string id;
  std::string customer;
  double amount = 0;
};
BOOST_HANA_ADAPT_STRUCT(order, id, customer, amount);

rill::topology orders_per_customer() {
  rill::streams_builder b;
  b.stream<std::string, order>("orders")
      .group_by([](const std::string&, const order& o) { return o.customer; })
      .count(rill::named("orders-per-customer"))
      .to_stream()
      .to("counts");
  return b.build();
}

int main() {
  const rill::topology t = orders_per_customer();
  if (t.describe().find("orders-per-customer") == std::string::npos) {
    std::cerr << "describe() does not name the store:\n" << t.describe();
    return 1;
  }
#ifdef WITH_TESTING
  rill::testing::test_driver driver(t);
  auto in = driver.input_topic<std::string, order>("orders");
  auto out = driver.output_topic<std::string, std::optional<std::int64_t>>("counts");
  in.pipe("o1", {"o1", "ada", 10});
  in.pipe("o2", {"o2", "ada", 20});
  const auto counts = out.read_key_values_to_map();
  if (counts.at("ada") != 2) {
    std::cerr << "ada has " << counts.at("ada").value_or(-1) << " orders, expected 2\n";
    return 1;
  }
  std::cout << "installed rill: topology and test driver work\n";
#else
  rill::json_serde<order> serde;
  rill::bytes b;
  serde.serialize({"o1", "ada", 10}, b, {"orders", false, nullptr});
  if (serde.deserialize(b, {"orders", false, nullptr}).customer != "ada") return 1;
  std::cout << "installed rill: topology and JSON serde work\n";
#endif
  return 0;
}
