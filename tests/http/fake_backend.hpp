// A backend for the HTTP server's tests: stores of JSON values kept in maps, owners of keys
// set by the test, and counters of what the server asked. Safe from the server's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <rill/queries.hpp>

#include "src/http/backend.hpp"
#include "src/http/client.hpp"
#include "src/http/server.hpp"

namespace rill::http::testing {

class fake_backend : public backend {
 public:
  // store -> key -> value (JSON text)
  void put(const std::string& store, const std::string& key, const std::string& value_json) {
    std::lock_guard lock(_mutex);
    _stores[store][key] = value_json;
  }
  void add_store(const std::string& store) {
    std::lock_guard lock(_mutex);
    _stores[store];
  }
  void set_owner(const std::string& key, const std::string& instance) {
    std::lock_guard lock(_mutex);
    _owners[key] = instance;
  }
  void set_self(const std::string& s) {
    std::lock_guard lock(_mutex);
    _self = s;
  }
  void set_others(std::vector<std::string> others) {
    std::lock_guard lock(_mutex);
    _others = std::move(others);
  }
  void set_unavailable(const std::string& store) {
    std::lock_guard lock(_mutex);
    _unavailable.insert(store);
  }
  std::atomic<bool> is_running{true};
  std::atomic<int> owner_calls{0};
  std::atomic<int> key_calls{0};

  bool running() override { return is_running; }
  std::string state_json() override {
    return std::string("{\"state\":\"") + (is_running ? "RUNNING" : "PENDING_SHUTDOWN") +
           "\",\"threads\":2}";
  }
  std::string topology_dot() override { return "digraph topology { source -> counts; }"; }

  std::optional<std::string> key_json(const std::string& store, const std::string& key) override {
    ++key_calls;
    std::lock_guard lock(_mutex);
    auto& s = check(store);
    if (key.rfind("bad:", 0) == 0) throw std::invalid_argument("key '" + key + "' is not a number");
    auto it = s.find(key);
    if (it == s.end()) return std::nullopt;
    return it->second;
  }
  std::string range_json(const std::string& store, const std::optional<std::string>& from,
                         const std::optional<std::string>& to) override {
    std::lock_guard lock(_mutex);
    auto& s = check(store);
    if (from && to && *from > *to)
      throw std::invalid_argument("bad range: from '" + *from + "' is after to '" + *to + "'");
    std::string out = "[";
    for (const auto& [k, v] : s) {
      if ((from && k < *from) || (to && k > *to)) continue;
      if (out.size() > 1) out += ",";
      out += "{\"key\":\"" + k + "\",\"value\":" + v + "}";
    }
    return out + "]";
  }
  std::string window_json(const std::string& store, const std::string& key, std::int64_t from_ms,
                          std::int64_t to_ms) override {
    std::lock_guard lock(_mutex);
    auto& s = check(store);
    auto it = s.find(key);
    if (it == s.end()) return "[]";
    return "[{\"start\":" + std::to_string(from_ms) + ",\"end\":" + std::to_string(to_ms) +
           ",\"value\":" + it->second + "}]";
  }
  std::optional<std::string> owner_of(const std::string& store, const std::string& key) override {
    ++owner_calls;
    std::lock_guard lock(_mutex);
    check(store);
    auto it = _owners.find(key);
    if (it == _owners.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> other_instances() override {
    std::lock_guard lock(_mutex);
    return _others;
  }
  std::string self() override {
    std::lock_guard lock(_mutex);
    return _self;
  }

 private:
  std::map<std::string, std::string>& check(const std::string& store) {
    if (_unavailable.count(store))
      throw store_unavailable_error("store '" + store + "' is restoring");
    auto it = _stores.find(store);
    if (it == _stores.end()) throw invalid_store_error("no store named '" + store + "'");
    return it->second;
  }

  std::mutex _mutex;
  std::map<std::string, std::map<std::string, std::string>> _stores;
  std::map<std::string, std::string> _owners;
  std::set<std::string> _unavailable;
  std::vector<std::string> _others;
  std::string _self;
};

inline std::string address(const server& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}

// One GET on a fresh connection, failing the test (by throwing) if nothing answers in 10 s.
inline client_response get(const server& s, const std::string& target,
                           std::vector<std::pair<std::string, std::string>> headers = {},
                           const std::string& method = "GET") {
  client c(address(s));
  return c.request(method, target, headers, std::chrono::seconds(10));
}

// A raw TCP connection for what a well-behaved client would not do; every wait is bounded.
class raw_connection {
 public:
  explicit raw_connection(std::uint16_t port) : _socket(_ioc) {
    _socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }
  void send(const std::string& bytes) { boost::asio::write(_socket, boost::asio::buffer(bytes)); }
  // The next response, or a test failure (thrown) after `timeout`.
  boost::beast::http::response<boost::beast::http::string_body> read_response(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::beast::error_code result;
    bool done = false;
    boost::beast::http::async_read(_socket, _buffer, res,
                                   [&](boost::beast::error_code ec, std::size_t) {
                                     result = ec;
                                     done = true;
                                   });
    run(done, timeout);
    if (!done)
      throw std::runtime_error("no response within " + std::to_string(timeout.count()) + " ms");
    if (result) throw std::runtime_error("reading the response: " + result.message());
    return res;
  }
  // True if the server closes the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    char byte;
    boost::beast::error_code result;
    bool done = false;
    _socket.async_read_some(boost::asio::buffer(&byte, 1),
                            [&](boost::beast::error_code ec, std::size_t) {
                              result = ec;
                              done = true;
                            });
    run(done, timeout);
    return done && result;
  }

 private:
  void run(bool& done, std::chrono::milliseconds timeout) {
    _ioc.restart();
    _ioc.run_for(timeout);
    if (!done) {
      _socket.cancel();
      _ioc.restart();
      _ioc.run();
      done = false;
    }
  }
  boost::asio::io_context _ioc;
  boost::asio::ip::tcp::socket _socket;
  boost::beast::flat_buffer _buffer;
};

}  // namespace rill::http::testing
