// Command lines for Rill's programs (the rill tool, rill-broker, the examples), on CLI11:
// every program has --help, and an unknown option, a missing value or a value that does not
// parse stops it with a message naming the problem and exit code 2.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rill::cli {

// Parses argv. Returns -1 when the program should go on, else its exit code: 0 after
// --help (printed to stdout), 2 after a bad command line (the reason on stderr).
inline int parse(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);  // prints the reason and a hint to use --help
    return 2;
  }
}

// The examples' command lines: a mode ("all": everything in one process on the embedded
// broker; any other: one part of it, against the broker that --properties names) and the
// properties file. Parses argv as parse() does; a part without --properties is an error.
inline int parse_example(CLI::App& app, int argc, const char* const* argv, std::string& mode,
                         const std::vector<std::string>& modes, std::string& properties) {
  app.add_option("mode", mode,
                 "all: everything in one process on the embedded broker; any other mode: that "
                 "part alone, against the broker in --properties")
      ->check(CLI::IsMember(modes));
  app.add_option("--properties", properties,
                 "bootstrap.servers (and broker.control), as rill broker --properties writes it")
      ->check(CLI::ExistingFile);
  const int code = parse(app, argc, argv);
  if (code < 0 && mode != "all" && properties.empty()) {
    std::cerr << app.get_name() << ": " << mode << " needs --properties (the broker to use)\n";
    return 2;
  }
  return code;
}

}  // namespace rill::cli
