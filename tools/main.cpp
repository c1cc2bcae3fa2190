// rill: the command-line tool.
//
//   rill broker [--brokers N] [--properties FILE] [--topic NAME:PARTITIONS]...
//   rill describe APP [--dot | --svg]
//   rill reset --application-id ID (--bootstrap-servers S | --properties FILE)
//              [--input-topics T,...] [--to-earliest | --to-latest | --to-offset N |
//              --to-timestamp MS] [--state-dir DIR] [--dry-run]
//
// `rill --help` and `rill COMMAND --help` say more. Exit code 2 for a bad command line.
#include <iostream>

#include "tools/broker.hpp"
#include "tools/cli.hpp"
#include "tools/describe.hpp"
#include "tools/reset.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Rill's command-line tool", "rill"};
  app.require_subcommand(1);

  rill::tools::broker_options broker;
  auto* broker_cmd = app.add_subcommand(
      "broker", "Run librdkafka's mock cluster as a standalone Kafka broker until SIGINT/SIGTERM");
  rill::tools::add_broker_options(*broker_cmd, broker);

  rill::tools::describe_options describe;
  auto* describe_cmd = app.add_subcommand(
      "describe", "Print an example app's topology (text as Kafka Streams prints it, DOT or SVG)");
  rill::tools::add_describe_options(*describe_cmd, describe);

  rill::tools::reset_options reset;
  auto* reset_cmd = app.add_subcommand(
      "reset", "Reset an application so that its next run starts from scratch (stop it first)");
  rill::tools::add_reset_options(*reset_cmd, reset);

  // CLI11 would only say a subcommand is required; name the one it does not know.
  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](const CLI::App* c) { return c->get_name() == argv[1]; }).empty()) {
    std::cerr << "rill: unknown command '" << argv[1]
              << "'; the commands are broker, describe and reset (rill --help)\n";
    return 2;
  }
  if (int code = rill::cli::parse(app, argc, argv); code >= 0) return code;
  if (*broker_cmd) return rill::tools::run_broker(broker);
  if (*describe_cmd) return rill::tools::run_describe(describe);
  return rill::tools::run_reset(reset);
}
