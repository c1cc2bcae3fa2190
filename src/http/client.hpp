// rill::http::client: a small blocking HTTP/1.1 client (Boost.Beast) for forwarding a
// request to another instance, and for tests. One connection to one "host:port", kept alive
// between requests; every request bounded by a timeout (resolve, connect, write and read).
//
// Threading: one thread at a time per client; each client has its own io_context, so it can
// be used on a server thread without touching the server's.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rill::http {

struct client_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string header(const std::string& lower_case_name) const;  // "" if absent
};

// A request that got no response: the instance could not be reached, or did not answer in
// time (timed_out()).
class client_error : public std::runtime_error {
 public:
  client_error(const std::string& what, bool timed_out)
      : std::runtime_error(what), _timed_out(timed_out) {}
  bool timed_out() const { return _timed_out; }

 private:
  bool _timed_out;
};

class client {
 public:
  // `host_port`: "host:port" or "[v6]:port". Connects at the first request.
  explicit client(const std::string& host_port);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends and reads one exchange within `timeout`. Throws client_error (also for a malformed
  // host:port). After an error or a `Connection: close` answer the next request reconnects;
  // a kept-alive connection the server has since closed (its idle timeout) fails one
  // request, which is not retried here: a caller that reuses a client retries it.
  client_response request(const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::chrono::milliseconds timeout, const std::string& body = "");

 private:
  struct impl;
  std::unique_ptr<impl> _impl;
};

}  // namespace rill::http
