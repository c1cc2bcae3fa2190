// HTTP/1.1 exchanges with the registry over Boost.Beast, in clear or over TLS (Boost.Asio
// SSL on OpenSSL): connect, handshake, send, read, close; one connection per exchange.
// Blocking; connect, handshake, send and read are each bounded by the timeout (name
// resolution by the system resolver's own). A transport keeps only its TLS context (trusted
// CAs, client certificate) between exchanges; exchange() may run on several threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <rill/registry.hpp>

namespace boost::asio::ssl {
class context;
}

namespace rill::registry::detail {

struct endpoint {
  std::string url;  // as configured (the first of a list): what messages name
  bool tls = false;
  std::string host;    // a name or an IP address (an IPv6 one without its brackets)
  std::string port;    // 80 or 443 when the URL gives none
  std::string prefix;  // path prefix, without a trailing '/'
};

// Parses http[s]://host[:port][/prefix]; throws config_error for anything else.
endpoint parse_url(const std::string& url);

struct http_response {
  int status = 0;
  std::string body;
};

class transport {
 public:
  // For https, loads the CAs, certificate and key now; throws config_error naming the
  // setting, the file and OpenSSL's reason.
  transport(const std::string& url, const tls_settings& tls);
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  // Sends `method` `target` with `body` (JSON, when not empty). Throws std::runtime_error
  // with the reason when there is no answer (refused, timed out, reset, a certificate that
  // does not verify).
  http_response exchange(const std::string& method, const std::string& target,
                         const std::string& body, const std::string& basic_auth,
                         std::chrono::milliseconds timeout) const;

 private:
  endpoint _endpoint;
  tls_settings _tls_settings;
  std::unique_ptr<boost::asio::ssl::context> _tls;  // https only
};

}  // namespace rill::registry::detail
