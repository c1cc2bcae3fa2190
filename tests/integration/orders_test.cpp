// The orders service (examples/orders) as its users run it: two service processes on a
// rill-broker, the second joining while the first runs (a rebalance). Both instances answer
// for every key, the ones the other owns forwarded there; the checker finds the read model
// of the event log on both; headless Chromium renders the page at / with the figures the
// event log gives. And `orders all`, in one process on the embedded broker.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>

#include <nlohmann/json.hpp>

#include "examples/orders/scenario.hpp"
#include "harness.hpp"

using namespace rill::test;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The address a service prints once it serves ("orders: serving http://host:port/").
std::string served_address(const std::string& log, process& service) {
  std::smatch m;
  std::string text;
  const bool found = wait_for(
      [&] {
        text = slurp(log);
        return std::regex_search(text, m, std::regex("serving http://([0-9.]+:[0-9]+)/")) ||
               !service.running();
      },
      60s);
  return found && !m.empty() ? m[1].str() : "";
}

// The page's figure with this id, as the rendered DOM shows it.
std::string cell(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "";
  return m[1].str();
}

}  // namespace

TEST(orders_service, two_processes_on_rill_broker_answer_for_every_key_and_render_the_page) {
  const std::size_t commands = 1500;
  const std::string dir = "/tmp/" + unique("rill-orders");
  const std::string props = dir + ".properties";
  process broker(RILL_BROKER_PATH, {"--properties", props}, dir + "-broker.log");
  ASSERT_TRUE(wait_for([&] { return std::ifstream(props).good(); }, 30s))
      << "rill-broker wrote no properties";
  { std::ofstream(props, std::ios::app) << "consumer.session.timeout.ms=6000\n"; }
  const std::string n = std::to_string(commands);
  process generate(ORDERS_PATH, {"generate", "--properties", props, "--commands", n},
                   dir + "-generate.log");
  ASSERT_EQ(generate.wait(90s), 0) << slurp(dir + "-generate.log");

  const std::string app_id = unique("orders");
  auto service = [&](const std::string& name) {
    return std::make_unique<process>(
        ORDERS_PATH,
        std::vector<std::string>{"service", "--properties", props, "--http", "127.0.0.1:0",
                                 "--application-id", app_id, "--state-dir", dir + "-" + name},
        dir + "-" + name + ".log");
  };
  auto check = [&](const std::string& name, const std::string& servers) {
    process checker(ORDERS_PATH,
                    {"check", "--properties", props, "--commands", n, "--servers", servers,
                     "--timeout-ms", "120000"},
                    dir + "-" + name + ".log");
    EXPECT_EQ(checker.wait(180s), 0) << slurp(dir + "-" + name + ".log");
    const std::string report = slurp(dir + "-" + name + ".log");
    EXPECT_NE(report.find("check: the read model matches the event log on every instance"),
              std::string::npos)
        << report;
    return report;
  };
  // The checker: every command answered as expected; the read model recomputed from the
  // event log is what the instances answer, whole and key by key. First the one instance,
  // until it has processed and committed everything: at-least-once, a rebalance before the
  // first commit would have the next owner process the commands again (docs/queries.md).
  auto a = service("a");
  const std::string host_a = served_address(dir + "-a.log", *a);
  ASSERT_FALSE(host_a.empty()) << slurp(dir + "-a.log");
  check("check-a", host_a);
  ASSERT_FALSE(HasFailure());

  auto b = service("b");  // joins the group: the partitions are shared out again
  const std::string host_b = served_address(dir + "-b.log", *b);
  ASSERT_FALSE(host_b.empty()) << slurp(dir + "-b.log");
  const std::string report = check("check-ab", host_a + "," + host_b);
  EXPECT_NE(report.find("keys served by 2 instance(s)"), std::string::npos)
      << "each instance owns some orders: " << report;

  // By hand: an order asked of either instance gets the same answer, served by the same
  // owner; the owners are both instances.
  const orders::plan p = orders::generate(commands);
  std::set<std::string> owners;
  for (std::size_t i = 0; i < p.commands.size(); i += 97) {
    const std::string& order = p.commands[i].order;
    if (order.starts_with("ghost")) continue;
    const auto from_a = orders::ask_order(host_a, order, 10s);
    const auto from_b = orders::ask_order(host_b, order, 10s);
    EXPECT_EQ(from_a.served_by, from_b.served_by) << order;
    EXPECT_TRUE(from_a.state == from_b.state) << order;
    owners.insert(from_a.served_by);
  }
  EXPECT_EQ(owners, (std::set<std::string>{host_a, host_b}));

  // The page, rendered by a browser: the figures the event log gives.
  const rill::config file = rill::config::from_properties_file(props);
  std::map<std::string, std::string> broker_props;
  if (auto control = file.get("broker.control")) broker_props["broker.control"] = *control;
  rill::topic_reader<std::string, orders::event> reader(file.get_string("bootstrap.servers"),
                                                        orders::topics{}.events(), broker_props);
  std::vector<rill::kafka_record<std::string, orders::event>> events;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& e : reader.read(100000, 200ms)) events.push_back(std::move(e));
        return events.size() >= commands;
      },
      60s));
  const auto want = orders::figures(orders::recompute(events, p.customers));
  const std::string dom = run_output(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--virtual-time-budget=15000 --dump-dom http://" +
      host_b + "/ 2>/dev/null");
  ASSERT_NE(dom.find("<h1>Orders</h1>"), std::string::npos)
      << "chromium (installed by scripts/setup.sh) did not render the page: " << dom;
  EXPECT_NE(dom.find("data-state=\"ready\""), std::string::npos) << dom;
  for (const auto& [status, count] : want.by_status)
    EXPECT_EQ(cell(dom, "count-" + status), std::to_string(count)) << status;
  ASSERT_FALSE(want.top_customers.empty());
  for (std::size_t i = 0; i < want.top_customers.size(); ++i) {
    const std::string top = "top-" + std::to_string(i + 1);
    EXPECT_EQ(cell(dom, top + "-customer"), want.top_customers[i].first) << top;
    EXPECT_EQ(cell(dom, top + "-value"), orders::money(want.top_customers[i].second)) << top;
  }
  EXPECT_GE(want.revenue_by_hour.size(), 3u) << "the commands span several hours";
  for (const auto& [hour, cents] : want.revenue_by_hour)
    EXPECT_EQ(cell(dom, "revenue-" + std::to_string(hour)), orders::money(cents)) << hour;

  b->kill(SIGTERM);
  EXPECT_EQ(b->wait(60s), 0) << slurp(dir + "-b.log");
  a->kill(SIGTERM);
  EXPECT_EQ(a->wait(60s), 0) << slurp(dir + "-a.log");
  broker.kill(SIGTERM);
  EXPECT_EQ(broker.wait(30s), 0);
}

TEST(orders_service, all_in_one_process_checks_its_own_endpoint) {
  const std::string dir = "/tmp/" + unique("rill-orders-all");
  process all(ORDERS_PATH,
              {"all", "--commands", "600", "--http", "127.0.0.1:0", "--state-dir", dir,
               "--timeout-ms", "90000"},
              dir + ".log");
  ASSERT_EQ(all.wait(150s), 0) << slurp(dir + ".log");
  EXPECT_NE(slurp(dir + ".log").find("check: the read model matches the event log"),
            std::string::npos);
}
