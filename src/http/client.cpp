#include "src/http/client.hpp"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace rill::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string client_response::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

struct client::impl {
  std::string host_port;
  std::string host;
  std::string port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

client::client(const std::string& host_port) : _impl(std::make_unique<impl>()) {
  _impl->host_port = host_port;
  auto colon = host_port.rfind(':');
  if (colon != std::string::npos) {
    _impl->host = host_port.substr(0, colon);
    _impl->port = host_port.substr(colon + 1);
    if (_impl->host.size() >= 2 && _impl->host.front() == '[' && _impl->host.back() == ']')
      _impl->host = _impl->host.substr(1, _impl->host.size() - 2);
  }
}

client::~client() = default;

client_response client::request(const std::string& method, const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                std::chrono::milliseconds timeout, const std::string& body) {
  auto& s = *_impl;
  if (s.host.empty() || s.port.empty())
    throw client_error("'" + s.host_port + "' is not host:port", false);
  auto verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) throw client_error("unknown HTTP method " + method, false);

  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, s.host_port);
  req.set(bhttp::field::user_agent, "rill-http");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);

  beast::error_code result;
  bool done = false;
  auto finish = [&](beast::error_code ec) {
    result = ec;
    done = true;
  };
  auto exchange = [&] {
    bhttp::async_write(*s.stream, req, [&](beast::error_code ec, std::size_t) {
      if (ec) return finish(ec);
      bhttp::async_read(*s.stream, s.buffer, parser,
                        [&](beast::error_code ec2, std::size_t) { finish(ec2); });
    });
  };
  tcp::resolver resolver(s.ioc);
  s.ioc.restart();
  if (s.stream) {
    exchange();
  } else {
    s.buffer.consume(s.buffer.size());
    s.stream.emplace(s.ioc);
    resolver.async_resolve(
        s.host, s.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return finish(ec);
          s.stream->async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
            if (ec2) return finish(ec2);
            beast::error_code ignored;  // a request/response exchange: send each at once
            s.stream->socket().set_option(tcp::no_delay(true), ignored);
            exchange();
          });
        });
  }
  s.ioc.run_for(timeout);
  if (!done) {  // cancel what is pending, and let its handlers run before the locals go
    resolver.cancel();
    s.stream->close();
    s.ioc.restart();
    s.ioc.run();
    s.stream.reset();
    throw client_error(
        "no answer from " + s.host_port + " within " + std::to_string(timeout.count()) + " ms",
        true);
  }
  if (result) {
    s.stream.reset();
    throw client_error(s.host_port + ": " + result.message(), false);
  }
  auto res = parser.release();
  client_response out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(res.body());
  if (!res.keep_alive()) s.stream.reset();
  return out;
}

}  // namespace rill::http
