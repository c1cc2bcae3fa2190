// `rill describe APP [--dot | --svg]`: an example app's topology, as Kafka Streams'
// Topology.describe() prints it, as Graphviz DOT, or drawn as SVG by Graphviz.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace rill::tools {

struct describe_options {
  std::string app;
  bool dot = false;
  bool svg = false;
};

void add_describe_options(CLI::App& app, describe_options& o);
int run_describe(const describe_options& o);

}  // namespace rill::tools
