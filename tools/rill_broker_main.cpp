// rill-broker: librdkafka's mock cluster as a standalone process, so that several services,
// kcat and Python clients can share one broker during development.
//
//   rill-broker [--brokers N] [--properties FILE] [--topic NAME:PARTITIONS]...
//
// Prints the bootstrap address and, with --properties, writes
//   bootstrap.servers=127.0.0.1:PORT
//   broker.control=127.0.0.1:PORT
// which a Rill service can load (rill::config::from_properties_file) so it can also create
// its internal topics here. Runs until SIGINT or SIGTERM.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <rill/embedded_broker.hpp>
#include <rill/errors.hpp>
#include <rill/streams_app.hpp>

namespace {
int usage() {
  std::cerr
      << "usage: rill-broker [--brokers N] [--properties FILE] [--topic NAME:PARTITIONS]...\n";
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::string properties;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    if (arg == "--brokers") {
      brokers = std::stoi(value);
    } else if (arg == "--properties") {
      properties = value;
    } else if (arg == "--topic") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) return usage();
      topics.emplace_back(value.substr(0, colon), std::stoi(value.substr(colon + 1)));
    } else {
      return usage();
    }
  }
  try {
    rill::embedded_broker broker(brokers);
    const std::uint16_t control = broker.serve_control();
    for (const auto& [name, partitions] : topics) broker.create_topic(name, partitions);
    const std::string control_address = "127.0.0.1:" + std::to_string(control);
    if (!properties.empty()) {
      std::ofstream out(properties + ".tmp");
      out << "bootstrap.servers=" << broker.bootstrap_servers()
          << "\nbroker.control=" << control_address << "\n";
      out.close();
      std::rename((properties + ".tmp").c_str(),
                  properties.c_str());  // readers never see half a file
    }
    std::cout << "rill-broker: bootstrap.servers=" << broker.bootstrap_servers()
              << " broker.control=" << control_address << std::endl;
    rill::wait_for_shutdown_signal();
    std::cout << "rill-broker: stopping" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "rill-broker: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
