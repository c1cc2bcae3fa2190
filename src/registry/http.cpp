#include "http.hpp"

#include <optional>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <rill/errors.hpp>

#include "tls.hpp"

namespace rill::registry::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

endpoint parse_url(const std::string& url) {
  endpoint e;
  e.url = url.substr(0, url.find(','));  // of a list, the first
  const auto scheme_end = e.url.find("://");
  const std::string scheme = e.url.substr(0, scheme_end);
  if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https"))
    throw config_error("schema registry url '" + url + "': expected http[s]://host:port");
  e.tls = scheme == "https";
  const std::string rest = e.url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) e.prefix = rest.substr(slash);
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  // [v6 address]:port, or host:port; the port may be left out.
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  const bool has_port =
      colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  e.host = authority.substr(0, has_port ? colon : std::string::npos);
  e.port = has_port ? authority.substr(colon + 1) : (e.tls ? "443" : "80");
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  if (e.host.empty() || e.port.empty())
    throw config_error("schema registry url '" + url + "': expected http[s]://host:port");
  return e;
}

namespace {
std::string base64(const std::string& in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string reason(const beast::error_code& ec) {
  return ec == beast::error::timeout ? "timed out" : ec.message();
}

// Starts one asynchronous operation through `start` (given the completion handler) and runs
// the io_context until it completes. The stream's timer bounds it: on expiry Beast closes
// the socket and the operation ends with beast::error::timeout.
template <class Start>
beast::error_code run(net::io_context& io, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result.value_or(net::error::operation_aborted);
}

// Sends the request on a connected (and for TLS, shaken-hands) stream and reads the answer.
template <class Stream>
http_response send_and_read(net::io_context& io, Stream& stream, const endpoint& e,
                            const http::request<http::string_body>& req,
                            std::chrono::milliseconds timeout) {
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(timeout);
  const auto sent = run(io, [&](auto done) { http::async_write(stream, req, std::move(done)); });

  // Read even when sending failed: a server may answer and close before taking the whole
  // request, and over TLS 1.3 a registry that refuses this client's certificate says so
  // only after the handshake, in an alert that may wait behind the failed write.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  auto ec = sent;
  if (sent != beast::error::timeout) {
    socket.expires_after(timeout);
    ec = run(io, [&](auto done) { http::async_read(stream, buffer, parser, std::move(done)); });
  }
  const bool alert = ec && ec.category() == net::error::get_ssl_category();
  if (alert) throw std::runtime_error(e.url + " ended the TLS session: " + reason(ec));
  if (ec && sent)
    throw std::runtime_error("cannot send to " + e.host + ":" + e.port + ": " + reason(sent));
  if (ec) throw std::runtime_error("no answer from " + e.host + ":" + e.port + ": " + reason(ec));
  // The answer is whole (its length is known) and the request said Connection: close, so the
  // connection just closes: no TLS close_notify exchange to wait for.
  beast::error_code ignored;  // closing anyway
  socket.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}
}  // namespace

transport::transport(const std::string& url, const tls_settings& tls)
    : _endpoint(parse_url(url)), _tls_settings(tls) {
  if (_endpoint.tls) _tls = make_tls_context(tls);
}

transport::~transport() = default;

http_response transport::exchange(const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& basic_auth,
                                  std::chrono::milliseconds timeout) const {
  const endpoint& e = _endpoint;
  http::request<http::string_body> req{http::string_to_verb(method), e.prefix + target, 11};
  req.set(http::field::host, e.host);
  req.set(http::field::connection, "close");
  req.set(http::field::accept, "application/vnd.schemaregistry.v1+json, application/json");
  if (!basic_auth.empty()) req.set(http::field::authorization, "Basic " + base64(basic_auth));
  if (!body.empty()) {
    req.set(http::field::content_type, "application/vnd.schemaregistry.v1+json");
    req.body() = body;
  }
  req.prepare_payload();

  net::io_context io;
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto addresses = resolver.resolve(e.host, e.port, ec);
  if (ec) throw std::runtime_error("cannot resolve " + e.host + ": " + ec.message());
  auto connect = [&](beast::tcp_stream& socket) {
    socket.expires_after(timeout);
    ec = run(io, [&](auto done) { socket.async_connect(addresses, std::move(done)); });
    if (ec) {
      throw std::runtime_error("cannot connect to " + e.host + ":" + e.port + ": " + reason(ec));
    }
  };
  if (!_tls) {
    beast::tcp_stream stream(io);
    connect(stream);
    return send_and_read(io, stream, e, req, timeout);
  }
  beast::ssl_stream<beast::tcp_stream> stream(io, *_tls);
  expect_host(stream.native_handle(), e, _tls_settings);
  connect(beast::get_lowest_layer(stream));
  beast::get_lowest_layer(stream).expires_after(timeout);
  ec = run(io, [&](auto done) {
    stream.async_handshake(net::ssl::stream_base::client, std::move(done));
  });
  if (ec)
    throw std::runtime_error(
        handshake_failure(stream.native_handle(), reason(ec), e, _tls_settings));
  return send_and_read(io, stream, e, req, timeout);
}

}  // namespace rill::registry::detail
