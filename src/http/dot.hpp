// Graphviz's `dot` as a child process (no shell), for /topology.svg. Internal to rill_http.
#pragma once

#include <chrono>
#include <string>

namespace rill::http::detail {

struct dot_result {
  enum class outcome { ok, missing, failed, timed_out } what = outcome::failed;
  std::string output;  // the SVG when ok, else why not
};

// Runs `program -Tsvg` (a path, or a name looked up on PATH) with `dot_text` on its stdin,
// killing it if it runs longer than `timeout`.
dot_result run_dot(const std::string& program, const std::string& dot_text,
                   std::chrono::milliseconds timeout);

}  // namespace rill::http::detail
