// Starts tests/registry/test_registry.py (a small schema registry) for one test, and stops
// it when destroyed. The port is read from a file the server writes once it listens.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace rill::test {

class registry_server {
 public:
  explicit registry_server(const std::string& user = "", int port = 0) { start(user, port); }
  ~registry_server() { stop(); }
  registry_server(const registry_server&) = delete;
  registry_server& operator=(const registry_server&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(_port); }
  int port() const { return _port; }

  // Kills the server (an outage); restart() brings up an empty one on the same port.
  void stop() {
    if (_pid <= 0) return;
    ::kill(_pid, SIGKILL);
    int status = 0;
    ::waitpid(_pid, &status, 0);
    _pid = -1;
  }
  void restart(const std::string& user = "") {
    stop();
    start(user, _port);
  }

 private:
  void start(const std::string& user, int port) {
    const std::string port_file = "/tmp/rill-registry-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(_starts++) + ".port";
    ::unlink(port_file.c_str());
    std::vector<std::string> args{"/usr/bin/python3", TEST_REGISTRY_SCRIPT,
                                  "--port-file",      port_file,
                                  "--port",           std::to_string(port)};
    if (!user.empty()) args.insert(args.end(), {"--user", user});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&_pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start the test registry");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream f(port_file);
      if (f >> _port) {
        ::unlink(port_file.c_str());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("the test registry wrote no port within 20 s");
  }

  pid_t _pid = -1;
  int _port = 0;
  int _starts = 0;
};

}  // namespace rill::test
