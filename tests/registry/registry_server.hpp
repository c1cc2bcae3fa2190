// Starts tests/registry/test_registry.py (a small schema registry) for one test, and stops
// it when destroyed. The server prints its port once it listens; the wait for it is bounded.
// HTTPS mode: test_certificates.hpp makes the certificates.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace rill::test {

struct registry_options {
  std::string user;      // "user:password": requests need HTTP basic auth
  std::string tls_cert;  // PEM files: serve HTTPS with this certificate and key
  std::string tls_key;
  std::string client_ca;  // HTTPS: require a client certificate signed by this CA
  std::string sni_log;    // HTTPS: append the server name of every TLS hello to this file
};

class registry_server {
 public:
  explicit registry_server(registry_options o = {}) { start(std::move(o), 0); }
  ~registry_server() { stop(); }
  registry_server(const registry_server&) = delete;
  registry_server& operator=(const registry_server&) = delete;

  // http://127.0.0.1:port, or https://localhost:port (a name the test certificate holds).
  std::string url() const {
    return _options.tls_cert.empty() ? "http://127.0.0.1:" + std::to_string(_port)
                                     : "https://localhost:" + std::to_string(_port);
  }
  int port() const { return _port; }

  // Kills the server (an outage); restart() brings up an empty one on the same port.
  void stop() { _process.reset(); }
  void restart(registry_options o = {}) {
    stop();
    start(std::move(o), _port);
  }

 private:
  void start(registry_options o, int port) {
    std::vector<std::string> args{"/usr/bin/python3", TEST_REGISTRY_SCRIPT, "--port",
                                  std::to_string(port)};
    const std::pair<const char*, const std::string*> flags[] = {{"--user", &o.user},
                                                                {"--tls-cert", &o.tls_cert},
                                                                {"--tls-key", &o.tls_key},
                                                                {"--tls-client-ca", &o.client_ca},
                                                                {"--sni-log", &o.sni_log}};
    for (const auto& [flag, value] : flags)
      if (!value->empty()) args.insert(args.end(), {flag, *value});
    _options = std::move(o);
    _process = std::make_unique<child_process>(args);
    const std::string line =
        _process->read_line(std::chrono::seconds(20), "the test registry's port");
    _port = std::stoi(line);
  }

  registry_options _options;
  std::unique_ptr<child_process> _process;
  int _port = 0;
};

}  // namespace rill::test
