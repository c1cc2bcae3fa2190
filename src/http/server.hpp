// rill::http::server: the HTTP endpoint of a Rill app (Boost.Beast), serving a backend.
//
// Lifecycle: the constructor binds host:port (port 0 picks a free one, see port()) and starts
// the server's own threads; stop() (or the destructor) closes the listener, ends every
// connection and joins the threads. Nothing runs on the caller's thread.
//
// Threading: `options::threads` threads run the I/O and the handlers. Reading and writing
// hold no thread (a silent or slow client only holds its connection, which the read timeout
// closes); a handler holds one thread while it runs, a forwarded request until the owner
// answers or `forward_timeout` passes. add_route may be called while serving.
//
// Limits: a request's header (431) and body (413) sizes, a read timeout per request (the
// whole request, headers and body, must arrive within it), keep-alive between requests.
// The server prints nothing and installs no signal handlers (its own threads block SIGPIPE).
//
// Routes (docs/queries.md has them with examples) are registered by register_store_routes
// (server_routes.cpp) and any caller's add_route, e.g. /metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/http/backend.hpp"

namespace rill::http {

// A request as a handler sees it: path parameters ({name} segments) and query parameters
// URL-decoded; header names in lower case.
struct request {
  std::string method;
  std::string target;  // as received: path and query, still encoded
  std::string path;    // the target's path, still encoded
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;
  std::string body;

  std::optional<std::string> header(const std::string& lower_case_name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/Length
};

// A handler: from a request to a response, on a server thread. It may throw what the backend
// throws (see backend.hpp), mapped to 404/503/400/500 with a JSON error.
using handler = std::function<response(const request&)>;

// The header a forwarded request carries: an instance never forwards a request that has it.
inline constexpr const char* forwarded_header = "X-Rill-Forwarded";

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  int threads = 4;
  std::chrono::milliseconds read_timeout{10'000};    // one whole request, and keep-alive idle
  std::chrono::milliseconds write_timeout{10'000};   // one whole response
  std::chrono::milliseconds forward_timeout{5'000};  // a forwarded or gathered request
  std::size_t header_limit = 8 * 1024;               // bytes; larger: 431
  std::size_t body_limit = 64 * 1024;                // bytes; larger: 413
  std::string dot_program = "dot";                   // for /topology.svg, found on PATH
  std::chrono::milliseconds dot_timeout{10'000};
};

class server {
 public:
  // Binds and starts serving `b` (which must outlive the server) with the built-in routes.
  // Throws std::system_error naming host:port if it cannot listen there.
  server(backend& b, server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Adds (or replaces) a route. `path` is literal segments and {name} segments, e.g.
  // "/stores/{store}/keys/{key}"; a {name} matches one non-empty segment.
  void add_route(const std::string& method, const std::string& path, handler h);

  std::uint16_t port() const;
  // Stops listening, closes connections, joins the threads. Idempotent. Not from a handler
  // (std::logic_error): it would join its own thread.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> _impl;
};

// JSON text helpers the routes and their callers share.
std::string json_string(const std::string& s);  // a quoted, escaped JSON string
response json_error(int status, const std::string& message);

}  // namespace rill::http
