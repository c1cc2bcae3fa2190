// The listener, the connections and the route table (server_routes.cpp has the routes).
#include "src/http/server.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <system_error>
#include <thread>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <rill/queries.hpp>

#include "src/http/server_routes.hpp"
#include "src/http/text.hpp"

namespace rill::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::optional<std::string> request::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

namespace {

struct route {
  std::string method;
  std::string path;
  std::vector<std::string> segments;
  handler h;
};

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `segments` (encoded) against a route's; fills `params` (decoded). A parameter that
// does not decode is reported in `bad`, and the route still matches.
bool matches(const route& r, const std::vector<std::string>& segments,
             std::map<std::string, std::string>& params, std::string& bad) {
  if (r.segments.size() != segments.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& want = r.segments[i];
    if (!is_param(want)) {
      if (want != segments[i]) return false;
      continue;
    }
    if (segments[i].empty()) return false;
    auto name = want.substr(1, want.size() - 2);
    auto value = detail::url_decode(segments[i], false);
    if (!value) {
      bad = "undecodable " + name + " '" + segments[i] + "' (a bad %-escape)";
      value = segments[i];
    }
    found[name] = std::move(*value);
  }
  params = std::move(found);
  return true;
}

}  // namespace

struct server::impl {
  backend& b;
  server_options options;
  std::unique_ptr<net::io_context> ioc = std::make_unique<net::io_context>();
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::vector<std::thread::id> thread_ids;  // set once at start, read by stop()
  std::uint16_t port = 0;
  std::mutex stop_mutex;
  bool stopped = false;
  std::shared_mutex routes_mutex;
  std::vector<route> routes;

  impl(backend& be, server_options o) : b(be), options(std::move(o)) {}
  void accept();
  response dispatch(request& req);
  response run_handler(const handler& h, const request& req);
};

namespace {

// One connection: read a request (within the read timeout and the size limits), answer it,
// and again while the client keeps it alive. Lives as long as an operation of it is pending.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, server::impl& server)
      : _stream(std::move(socket)), _server(server) {
    beast::error_code ignored;  // without it, only small answers may wait on delayed ACKs
    _stream.socket().set_option(tcp::no_delay(true), ignored);
  }

  void start() {
    net::dispatch(_stream.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    _parser.emplace();
    _parser->header_limit(static_cast<std::uint32_t>(_server.options.header_limit));
    _parser->body_limit(_server.options.body_limit);
    _stream.expires_after(_server.options.read_timeout);
    bhttp::async_read(
        _stream, _buffer, *_parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted)
      return close();
    if (ec == bhttp::error::header_limit)
      return write(json_error(431, "request header larger than " +
                                       std::to_string(_server.options.header_limit) + " bytes"),
                   false);
    if (ec == bhttp::error::body_limit)
      return write(json_error(413, "request body larger than " +
                                       std::to_string(_server.options.body_limit) + " bytes"),
                   false);
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category())
      return write(json_error(400, "malformed request: " + ec.message()), false);
    if (ec) return close();
    auto msg = _parser->release();
    write(handle(msg), msg.keep_alive());
  }

  response handle(bhttp::request<bhttp::string_body>& msg) {
    request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    req.body = std::move(msg.body());
    if (q != std::string::npos) {
      std::string bad;
      auto query = detail::parse_query(std::string_view(req.target).substr(q + 1), bad);
      if (!query) return json_error(400, "undecodable query parameter '" + bad + "'");
      req.query = std::move(*query);
    }
    return _server.dispatch(req);
  }

  void write(response r, bool keep_alive) {
    _response.emplace(static_cast<bhttp::status>(r.status), 11);
    _response->set(bhttp::field::server, "rill");
    _response->set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) _response->set(name, value);
    _response->body() = std::move(r.body);
    _response->keep_alive(keep_alive);
    _response->prepare_payload();
    _stream.expires_after(_server.options.write_timeout);
    bhttp::async_write(_stream, *_response,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         if (ec || !keep_alive) return self->close();
                         self->read();
                       });
  }

  void close() {
    beast::error_code ignored;  // the connection ends either way
    _stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    _stream.close();
  }

  beast::tcp_stream _stream;
  beast::flat_buffer _buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> _parser;
  std::optional<bhttp::response<bhttp::string_body>> _response;
  server::impl& _server;
};

}  // namespace

void server::impl::accept() {
  acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket s) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) std::make_shared<session>(std::move(s), *this)->start();
    accept();  // a failed accept (out of descriptors, ...) drops that connection only
  });
}

response server::impl::dispatch(request& req) {
  auto segments = detail::split_path(req.path);
  handler h;
  std::set<std::string> allowed;
  std::string bad;
  {
    std::shared_lock lock(routes_mutex);
    for (const auto& r : routes) {
      std::map<std::string, std::string> params;
      std::string bad_here;
      if (!matches(r, segments, params, bad_here)) continue;
      if (r.method != req.method) {
        allowed.insert(r.method);
        continue;
      }
      h = r.h;
      req.params = std::move(params);
      bad = std::move(bad_here);
      break;
    }
  }
  if (!h && allowed.empty()) return json_error(404, "no route for " + req.method + " " + req.path);
  if (!h) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    auto r = json_error(405, req.method + " is not allowed on " + req.path + "; use " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (!bad.empty()) return json_error(400, bad);
  return run_handler(h, req);
}

response server::impl::run_handler(const handler& h, const request& req) {
  try {
    return h(req);
  } catch (const invalid_store_error& e) {
    return json_error(404, e.what());
  } catch (const store_unavailable_error& e) {
    auto r = json_error(503, e.what());
    r.headers.emplace_back("Retry-After", "1");
    return r;
  } catch (const std::invalid_argument& e) {
    return json_error(400, e.what());
  } catch (const std::exception& e) {
    return json_error(500, e.what());
  } catch (...) {
    return json_error(500, "the handler threw something that is not a std::exception");
  }
}

server::server(backend& b, server_options options)
    : _impl(std::make_unique<impl>(b, std::move(options))) {
  auto& s = *_impl;
  auto where = s.options.host + ":" + std::to_string(s.options.port);
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.host, ec);
  if (ec) throw std::system_error(ec.value(), std::generic_category(), "bad HTTP host " + where);
  tcp::endpoint endpoint(address, s.options.port);
  s.acceptor = std::make_unique<tcp::acceptor>(*s.ioc);
  if (s.acceptor->open(endpoint.protocol(), ec) ||
      s.acceptor->set_option(net::socket_base::reuse_address(true), ec) ||
      s.acceptor->bind(endpoint, ec) ||
      s.acceptor->listen(net::socket_base::max_listen_connections, ec))
    throw std::system_error(ec.value(), std::generic_category(), "cannot listen on " + where);
  s.port = s.acceptor->local_endpoint().port();
  register_store_routes(*this, b, s.options);
  auto idle = net::make_work_guard(*s.ioc);  // the threads wait for work until accept()
  int n = std::max(1, s.options.threads);
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([ioc = s.ioc.get()] {
      // A write to a closed pipe (dot's stdin) must fail with EPIPE, not kill the process:
      // these threads, and only they, block SIGPIPE.
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &set, nullptr);
      ioc->run();
    });
    s.thread_ids.push_back(s.threads.back().get_id());
  }
  s.accept();
  idle.reset();
}

server::~server() {
  stop();
}

void server::add_route(const std::string& method, const std::string& path, handler h) {
  route r{method, path, detail::split_path(path), std::move(h)};
  std::unique_lock lock(_impl->routes_mutex);
  for (auto& existing : _impl->routes) {
    if (existing.method == method && existing.path == path) {
      existing = std::move(r);
      return;
    }
  }
  _impl->routes.push_back(std::move(r));
}

std::uint16_t server::port() const {
  return _impl->port;
}

void server::stop() {
  auto& s = *_impl;
  for (const auto& id : s.thread_ids) {
    if (id == std::this_thread::get_id())
      throw std::logic_error(
          "rill::http::server::stop() called from a handler: it would join "
          "the thread it runs on; stop the server from another thread");
  }
  std::lock_guard lock(s.stop_mutex);
  if (s.stopped) return;
  s.stopped = true;
  s.ioc->stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  s.acceptor.reset();
  s.ioc.reset();  // destroys the pending operations, and with them every connection
}

}  // namespace rill::http
