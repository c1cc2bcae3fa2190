// rill-broker: the same as `rill broker` (see broker.hpp), under its older name.
//
//   rill-broker [--brokers N] [--properties FILE] [--topic NAME:PARTITIONS]...
#include "tools/broker.hpp"
#include "tools/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"librdkafka's mock cluster as a standalone Kafka broker, until SIGINT/SIGTERM",
               "rill-broker"};
  rill::tools::broker_options o;
  rill::tools::add_broker_options(app, o);
  if (int code = rill::cli::parse(app, argc, argv); code >= 0) return code;
  return rill::tools::run_broker(o);
}
