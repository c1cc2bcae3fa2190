#include "tools/describe.hpp"

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "examples/bank/bank.hpp"
#include "examples/event_router/router.hpp"
#include "examples/order_enrichment/enrichment.hpp"
#include "examples/word_count/word_count.hpp"

namespace rill::tools {

namespace {

const std::map<std::string, std::function<rill::topology()>>& examples() {
  static const std::map<std::string, std::function<rill::topology()>> all{
      {"bank", [] { return bank::topology(); }},
      {"event_router", [] { return event_router::topology(); }},
      {"order_enrichment", [] { return enrichment::topology(); }},
      {"word_count", [] { return word_count::topology(); }},
  };
  return all;
}

// DOT through Graphviz's `dot -Tsvg`; the SVG on stdout.
int print_svg(const std::string& dot) {
  FILE* pipe = ::popen("dot -Tsvg", "w");
  if (pipe == nullptr) {
    std::cerr << "rill describe: cannot run Graphviz's dot (install graphviz)\n";
    return 1;
  }
  std::fwrite(dot.data(), 1, dot.size(), pipe);
  const int status = ::pclose(pipe);
  if (status != 0) {
    std::cerr << "rill describe: dot -Tsvg failed (exit status " << status
              << "); is Graphviz installed?\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_describe_options(CLI::App& app, describe_options& o) {
  std::vector<std::string> names;
  for (const auto& [name, make] : examples()) names.push_back(name);
  app.add_option("app", o.app, "The example app whose topology to print")
      ->required()
      ->check(CLI::IsMember(names));
  auto* dot = app.add_flag("--dot", o.dot, "Graphviz DOT instead of Kafka Streams' text format");
  app.add_flag("--svg", o.svg, "An SVG drawing (runs Graphviz's dot)")->excludes(dot);
}

int run_describe(const describe_options& o) {
  const rill::topology t = examples().at(o.app)();
  if (o.svg) return print_svg(t.to_dot());
  std::cout << (o.dot ? t.to_dot() : t.describe());
  return 0;
}

}  // namespace rill::tools
