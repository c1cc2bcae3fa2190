// Command lines for Rill's programs (the rill tool, rill-broker, the examples), on CLI11:
// every program has --help, and an unknown option, a missing value or a value that does not
// parse stops it with a message naming the problem and exit code 2.
#pragma once

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

}  // namespace rill::cli
