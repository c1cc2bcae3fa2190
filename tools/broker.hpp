// `rill broker` (and `rill-broker`): librdkafka's mock cluster as a standalone process, so
// that several services, kcat and Python clients can share one broker during development.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rill::tools {

struct broker_options {
  int brokers = 1;
  std::string properties;           // where to write bootstrap.servers and broker.control
  std::vector<std::string> topics;  // NAME:PARTITIONS
};

// The options of the broker command, on `app` (the rill broker subcommand or rill-broker).
void add_broker_options(CLI::App& app, broker_options& o);
// Runs until SIGINT or SIGTERM; the exit code.
int run_broker(const broker_options& o);

}  // namespace rill::tools
