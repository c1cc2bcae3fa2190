// HTTP load: N concurrent clients x M requests against rill::http::server, each client on
// one kept-alive connection; prints p50/p99 latency and requests/s per scenario.
//
//   bench_http_load [--clients 8] [--requests 2000]            fake backend, three scenarios
//   bench_http_load --server host:port --path /stores/s/keys/k  against a running app
//
// With the fake backend the figures are the server's own cost: /health is the floor (no
// store call), a key read where it lives, and the same key asked at the instance that does
// not own it (forwarded one hop, so two servers' work and a second connection).
// Exit status 1 if any request failed or did not answer 200.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "http_clients.hpp"
#include "src/http/backend.hpp"
#include "src/http/client.hpp"
#include "src/http/server.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// Keys k0..k999 in one store; keys owned elsewhere when `owner` is set.
class bench_backend : public rill::http::backend {
 public:
  std::string self_name;
  std::string owner;  // "" : every key here
  bool running() override { return true; }
  std::string state_json() override { return "{\"state\":\"RUNNING\",\"threads\":2}"; }
  std::string topology_dot() override { return "digraph { a -> b; }"; }
  std::optional<std::string> key_json(const std::string&, const std::string& key) override {
    return "{\"key\":\"" + key + "\",\"count\":" + std::to_string(key.size() * 7) + "}";
  }
  std::string range_json(const std::string&, const std::optional<std::string>&,
                         const std::optional<std::string>&) override {
    return "[]";
  }
  std::string window_json(const std::string&, const std::string&, std::int64_t,
                          std::int64_t) override {
    return "[]";
  }
  std::optional<std::string> owner_of(const std::string&, const std::string&) override {
    if (owner.empty()) return std::nullopt;
    return owner;
  }
  std::vector<std::string> other_instances() override { return {}; }
  std::string self() override { return self_name; }
};

// Runs the load and prints one line; false if any request failed.
bool run(const char* name, const std::string& address, const std::string& path, int clients,
         int requests) {
  const auto o = bench_http::load(address, clients, requests, [&](int i, int id) {
    auto target = path;
    if (target.find("{i}") != std::string::npos)
      target.replace(target.find("{i}"), 3, std::to_string((i * 8 + id) % 1000));
    return target;
  });
  std::printf("%-28s %d clients x %d: p50 %8.1f us  p99 %8.1f us  %9.0f req/s  errors %d\n", name,
              clients, requests, o.percentile(0.50), o.percentile(0.99),
              static_cast<double>(o.latencies_us.size()) / o.seconds, o.errors);
  if (o.errors > 0) std::printf("  first error: %s\n", o.first_error.c_str());
  return o.errors == 0;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 8, requests = 2000;
  std::string external, path = "/health";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients"))
      clients = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--requests"))
      requests = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--server"))
      external = argv[i + 1];
    else if (!std::strcmp(argv[i], "--path"))
      path = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: %s [--clients N] [--requests M] [--server host:port --path P]\n"
                   "  P may hold {i}: replaced by a key number 0..999\n",
                   argv[0]);
      return 2;
    }
  }
  if (!external.empty()) return run(path.c_str(), external, path, clients, requests) ? 0 : 1;

  bench_backend owner_backend, other_backend;
  rill::http::server owner_server(owner_backend), other_server(other_backend);
  auto owner_address = "127.0.0.1:" + std::to_string(owner_server.port());
  auto other_address = "127.0.0.1:" + std::to_string(other_server.port());
  owner_backend.self_name = owner_address;
  other_backend.self_name = other_address;
  other_backend.owner = owner_address;
  bool ok = run("GET /health (floor)", owner_address, "/health", clients, requests);
  ok = run("GET key, local", owner_address, "/stores/s/keys/k{i}", clients, requests) && ok;
  ok = run("GET key, forwarded one hop", other_address, "/stores/s/keys/k{i}", clients, requests) &&
       ok;
  return ok ? 0 : 1;
}
