// A plain HTTP/1.1 GET on Boost.Beast, for the orders checker: what any client of the
// service's endpoint would do.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace orders {

struct http_answer {
  int status = 0;
  std::string body;
};

// GET http://<server><target> (server = host:port), the whole exchange within `timeout`.
// Throws std::runtime_error naming the server when it cannot be asked.
inline http_answer http_get(const std::string& server, const std::string& target,
                            std::chrono::milliseconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  const auto colon = server.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("'" + server + "' is not host:port");
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(server.substr(0, colon), server.substr(colon + 1)));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, server);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return {static_cast<int>(res.result_int()), std::move(res.body())};
  } catch (const std::exception& e) {
    throw std::runtime_error("GET http://" + server + target + ": " + e.what());
  }
}

}  // namespace orders
