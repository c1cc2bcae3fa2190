// One HTTP/1.1 exchange with the registry over Boost.Beast: connect, send, read, close.
// Blocking, bounded by a timeout on every step; no state kept between calls.
#pragma once

#include <chrono>
#include <string>

namespace rill::registry::detail {

struct endpoint {
  std::string host;
  std::string port;
  std::string prefix;  // path prefix, without a trailing '/'
};

// Parses http://host[:port][/prefix]; throws config_error for anything else.
endpoint parse_url(const std::string& url);

struct http_response {
  int status = 0;
  std::string body;
};

// Sends `method` `target` with `body` (JSON, when not empty). Throws std::runtime_error with
// the reason when there is no answer (refused, timed out, reset).
http_response exchange(const endpoint& e, const std::string& method, const std::string& target,
                       const std::string& body, const std::string& basic_auth,
                       std::chrono::milliseconds timeout);

}  // namespace rill::registry::detail
