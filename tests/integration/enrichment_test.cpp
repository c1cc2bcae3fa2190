// Joins on the embedded broker: the order enrichment example (a global table and a
// foreign-key join) runs as two separate processes sharing the partitions; every order's
// latest enriched row equals the test driver's for the same input, and the one computed from
// the data. Data: 3 000 orders of ~60 bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <rill/rill.hpp>
#include <rill/testing/test_driver.hpp>

#include "examples/order_enrichment/enrichment.hpp"
#include "harness.hpp"
#include "src/runtime/partitioner.hpp"

using namespace rill::test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The latest row per order when the driver runs the same topology on the same data.
std::map<std::string, enrichment::enriched> on_the_driver(const enrichment::data& d) {
  const enrichment::topics t;
  rill::testing::driver_options o;
  o.partitions = {{t.orders(), 4}, {t.products(), 2}, {t.customers(), 3}};
  rill::testing::test_driver driver(enrichment::topology(t), o);
  auto customers =
      driver.input_topic<std::string, std::optional<enrichment::customer>>(t.customers());
  auto products = driver.input_topic<std::string, std::optional<enrichment::product>>(t.products());
  auto orders = driver.input_topic<std::string, enrichment::order>(t.orders());
  for (const auto& [id, c] : d.customers) customers.pipe(id, c);
  for (const auto& [id, p] : d.products) products.pipe(id, p);
  for (const auto& ord : d.orders) orders.pipe(ord.id, ord);
  auto out = driver.output_topic<std::string, std::optional<enrichment::enriched>>(t.enriched());
  std::map<std::string, enrichment::enriched> latest;
  for (const auto& r : out.read_records_to_list()) {
    if (r.value)
      latest[r.key] = *r.value;
    else
      latest.erase(r.key);
  }
  return latest;
}

}  // namespace

TEST(enrichment, two_processes_with_a_global_table_and_a_foreign_key_join_match_the_driver) {
  cluster c;
  const enrichment::topics t{unique("shop") + "-"};
  c.create_topic(t.orders(), 4);
  c.create_topic(t.products(), 2);
  c.create_topic(t.customers(), 3);
  c.create_topic(t.enriched(), 4);
  const auto data = enrichment::generate(3000);
  const auto want = enrichment::expected(data);
  // The catalog and the customers exist before the instances start: the global thread
  // reads the catalog to its end before any order is processed.
  enrichment::data orders_only;
  orders_only.orders = data.orders;
  enrichment::data catalog = data;
  catalog.orders.clear();
  enrichment::write(c.bootstrap(), c.props(), t, catalog);

  const std::string app_id = unique("shop-app");
  const std::string props = c.write_properties("/tmp/" + app_id + ".properties");
  std::ofstream(props, std::ios::app)
      << "consumer.session.timeout.ms=6000\nconsumer.heartbeat.interval.ms=1000\n";
  const std::vector<std::string> args{"service",          "--properties", props,
                                      "--application-id", app_id,         "--topic-prefix",
                                      t.prefix,           "--state-dir",  "/tmp/" + app_id};
  process a(ORDER_ENRICHMENT_PATH, args, "/tmp/" + app_id + "-a.log");
  process b(ORDER_ENRICHMENT_PATH, args, "/tmp/" + app_id + "-b.log");
  ASSERT_TRUE(a.started() && b.started());
  ASSERT_TRUE(wait_for(
      [&] {
        return read_file("/tmp/" + app_id + "-a.log").find("partitions assigned") !=
                   std::string::npos &&
               read_file("/tmp/" + app_id + "-b.log").find("partitions assigned") !=
                   std::string::npos;
      },
      90s))
      << read_file("/tmp/" + app_id + "-a.log");
  for (const char* log : {"-a.log", "-b.log"}) {
    EXPECT_NE(read_file("/tmp/" + app_id + log).find("global tables restored"), std::string::npos)
        << log;
  }
  enrichment::write(c.bootstrap(), c.props(), t, orders_only);
  const auto got = enrichment::read_until(c.bootstrap(), c.props(), t, want, 120s);

  // The global table follows its topic while the app runs: a new price reaches the orders
  // naming the product after it, on whichever instance processes them.
  enrichment::data update;
  update.products = {{"p0", {"product 0", 999}}};
  enrichment::write(c.bootstrap(), c.props(), t, update);
  // The update reaches each instance's global store in its own time: probe orders for the
  // product, one on each partition of the orders topic (so on both instances), sent again
  // until every one comes back with the new price, show that it has.
  rill::topic_reader<std::string, std::optional<enrichment::enriched>> reader(
      c.bootstrap(), t.enriched(), c.props());
  enrichment::data probe;
  std::set<std::int32_t> covered;
  for (int i = 0; covered.size() < 4; ++i) {
    const std::string id = "probe-" + std::to_string(i);
    if (covered.insert(rill::runtime::default_partition(rill::to_bytes(id), 4)).second)
      probe.orders.push_back({id, "c0", "p0", 1});
  }
  std::set<std::string> repriced;
  ASSERT_TRUE(wait_for(
      [&] {
        enrichment::write(c.bootstrap(), c.props(), t, probe);
        for (const auto& r : reader.read(100000, 500ms)) {
          if (r.key.starts_with("probe-") && r.value && r.value->total == 999)
            repriced.insert(r.key);
        }
        return repriced.size() == probe.orders.size();
      },
      60s, 0ms))
      << "the new price never reached both instances' global tables";
  auto later = want;
  for (const auto& p : probe.orders) later[p.id] = {p.id, "customer 0", "Lyon", "product 0", 999};
  enrichment::data repeat;
  for (const auto& o : data.orders) {
    if (o.product != "p0") continue;
    enrichment::order again = o;
    again.quantity += 1;
    repeat.orders.push_back(again);
    later[o.id].total = again.quantity * 999;
  }
  enrichment::write(c.bootstrap(), c.props(), t, repeat);
  const auto second = enrichment::read_until(c.bootstrap(), c.props(), t, later, 60s);
  a.kill(SIGTERM);
  b.kill(SIGTERM);
  EXPECT_EQ(a.wait(60s), 0);
  EXPECT_EQ(b.wait(60s), 0);

  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the broker's rows differ from the ones computed from the data";
  EXPECT_TRUE(second == later) << "orders after the price update were priced with the old price";
  EXPECT_FALSE(repeat.orders.empty());
  const auto driver = on_the_driver(data);
  EXPECT_TRUE(got == driver) << "the broker's rows differ from the test driver's";
  // Both instances processed records: the partitions were shared.
  for (const char* log : {"-a.log", "-b.log"}) {
    const std::string text = read_file("/tmp/" + app_id + log);
    auto at = text.rfind("processed ");
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_GT(std::stoull(text.substr(at + 10)), 0U) << log;
  }
}
