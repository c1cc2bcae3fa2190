#include "tools/broker.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

#include <rill/embedded_broker.hpp>
#include <rill/errors.hpp>
#include <rill/streams_app.hpp>

namespace rill::tools {

namespace {

// "orders:4" -> ("orders", 4); the validator has checked the shape.
std::pair<std::string, int> topic_spec(const std::string& s) {
  const auto colon = s.rfind(':');
  return {s.substr(0, colon), std::stoi(s.substr(colon + 1))};
}

}  // namespace

void add_broker_options(CLI::App& app, broker_options& o) {
  app.add_option("--brokers", o.brokers, "Number of brokers in the cluster")
      ->check(CLI::Range(1, 16));
  app.add_option("--properties", o.properties,
                 "Write bootstrap.servers and broker.control to this file (for "
                 "rill::config::from_properties_file and the examples' --properties)");
  app.add_option("--topic", o.topics, "Create a topic at start: NAME:PARTITIONS (repeatable)")
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            const auto colon = s.rfind(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
              return "expected NAME:PARTITIONS, got '" + s + "'";
            const std::string n = s.substr(colon + 1);
            if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 4 ||
                std::stoi(n) < 1)
              return "the partition count of '" + s + "' is not a number from 1 to 9999";
            return "";
          },
          "NAME:PARTITIONS"));
}

int run_broker(const broker_options& o) {
  try {
    rill::embedded_broker broker(o.brokers);
    const std::uint16_t control = broker.serve_control();
    for (const auto& t : o.topics) {
      auto [name, partitions] = topic_spec(t);
      broker.create_topic(name, partitions);
    }
    const std::string control_address = "127.0.0.1:" + std::to_string(control);
    if (!o.properties.empty()) {
      std::ofstream out(o.properties + ".tmp");
      out << "bootstrap.servers=" << broker.bootstrap_servers()
          << "\nbroker.control=" << control_address << "\n";
      out.close();
      if (!out) throw rill::error("cannot write " + o.properties + ".tmp");
      // Readers never see half a file.
      if (std::rename((o.properties + ".tmp").c_str(), o.properties.c_str()) != 0)
        throw rill::error("cannot rename " + o.properties + ".tmp to " + o.properties);
    }
    std::cout << "rill broker: bootstrap.servers=" << broker.bootstrap_servers()
              << " broker.control=" << control_address << std::endl;
    rill::wait_for_shutdown_signal();
    std::cout << "rill broker: stopping" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "rill broker: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace rill::tools
