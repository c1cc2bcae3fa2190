// order_enrichment: orders priced from a global product catalog and joined by their customer
// (a foreign key) with the customers table.
//
//   order_enrichment [all] [--orders N]     everything in one process on the embedded broker:
//                                             write the shop's data, enrich, check every order
//   order_enrichment service --properties FILE [--state-dir DIR] [--application-id ID]
//                            [--topic-prefix P]
//                                             run until SIGINT/SIGTERM (topics P + orders,
//                                             products, customers, enriched-orders)
//
// The check compares every order's latest enriched row with one computed here from the data.
#include <iostream>

#include "enrichment.hpp"
#include "tools/cli.hpp"

int main(int argc, char** argv) {
  try {
    std::string mode = "all";
    std::size_t orders = 2000;
    std::string properties;
    std::string state_dir = "/tmp/rill-order-enrichment";
    std::string app_id = "order-enrichment";
    std::string prefix;
    CLI::App cli{"Order enrichment on Rill: a global table and a foreign-key join",
                 "order_enrichment"};
    cli.add_option("--orders", orders, "Orders to write (all)")->check(CLI::PositiveNumber);
    cli.add_option("--state-dir", state_dir, "state.dir");
    cli.add_option("--application-id", app_id, "application.id");
    cli.add_option("--topic-prefix", prefix, "Prefix of the topic names (service)");
    if (int code = rill::cli::parse_example(cli, argc, argv, mode, {"all", "service"}, properties);
        code >= 0)
      return code;
    rill::config cfg{
        {"application.id", app_id}, {"state.dir", state_dir}, {"commit.interval.ms", "200"}};
    if (!properties.empty()) {
      const rill::config file = rill::config::from_properties_file(properties);
      for (const auto& [k, v] : file.values()) cfg.set(k, v);
    }
    const enrichment::topics t{prefix};
    if (mode == "service") {
      rill::streams_app app(enrichment::topology(t), cfg);
      app.start();
      rill::wait_for_shutdown_signal();
      const bool clean = app.close();
      std::cout << "order_enrichment: processed " << app.counters().processed << " records"
                << std::endl;
      return clean ? 0 : 1;
    }

    auto broker = rill::embedded_broker::shared();
    broker.create_topic(t.orders(), 4);
    broker.create_topic(t.products(), 2);
    broker.create_topic(t.customers(), 3);
    broker.create_topic(t.enriched(), 4);
    const auto data = enrichment::generate(orders);
    enrichment::write("embedded", {}, t, data);
    const auto want = enrichment::expected(data);
    rill::streams_app app(enrichment::topology(t), cfg);
    app.start();
    const auto got = enrichment::read_until("embedded", {}, t, want, std::chrono::seconds(90));
    app.close();
    std::size_t right = 0;
    for (const auto& [id, row] : want) {
      auto it = got.find(id);
      if (it != got.end() && it->second == row) ++right;
    }
    const bool ok = right == want.size() && got.size() == want.size();
    std::cout << "order_enrichment: " << want.size() << " orders, " << right
              << " enriched as expected" << (ok ? "" : " — ROWS DIFFER") << std::endl;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "order_enrichment: " << e.what() << std::endl;
    return 1;
  }
}
