#include "http.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <rill/errors.hpp>

namespace rill::registry::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw config_error("schema registry url '" + url + "': https is not supported yet");
  if (url.rfind(scheme, 0) != 0)
    throw config_error("schema registry url '" + url + "': expected http://host:port");
  std::string rest = url.substr(scheme.size());
  if (auto comma = rest.find(','); comma != std::string::npos) rest.resize(comma);  // first one
  endpoint e;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) e.prefix = rest.substr(slash);
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  const auto colon = authority.rfind(':');
  e.host = authority.substr(0, colon);
  e.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (e.host.empty() || e.port.empty())
    throw config_error("schema registry url '" + url + "': expected http://host:port");
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
}  // namespace

http_response exchange(const endpoint& e, const std::string& method, const std::string& target,
                       const std::string& body, const std::string& basic_auth,
                       std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto addresses = resolver.resolve(e.host, e.port, ec);
  if (ec) throw std::runtime_error("cannot resolve " + e.host + ": " + ec.message());
  stream.expires_after(timeout);
  stream.connect(addresses, ec);
  if (ec)
    throw std::runtime_error("cannot connect to " + e.host + ":" + e.port + ": " + ec.message());

  http::request<http::string_body> req{http::string_to_verb(method), e.prefix + target, 11};
  req.set(http::field::host, e.host);
  req.set(http::field::accept, "application/vnd.schemaregistry.v1+json, application/json");
  if (!basic_auth.empty()) req.set(http::field::authorization, "Basic " + base64(basic_auth));
  if (!body.empty()) {
    req.set(http::field::content_type, "application/vnd.schemaregistry.v1+json");
    req.body() = body;
  }
  req.prepare_payload();
  stream.expires_after(timeout);
  http::write(stream, req, ec);
  if (ec) throw std::runtime_error("cannot send to " + e.host + ":" + e.port + ": " + ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  stream.expires_after(timeout);
  http::read(stream, buffer, parser, ec);
  if (ec) {
    throw std::runtime_error("no answer from " + e.host + ":" + e.port + ": " +
                             (ec == beast::error::timeout ? "timed out" : ec.message()));
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // closing anyway: ignore
  return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
}

}  // namespace rill::registry::detail
