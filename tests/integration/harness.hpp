// Shared pieces of the integration tests: which cluster to use, unique names, child
// processes, and waiting for a condition (never a bare sleep).
//
// By default tests run on an embedded broker in the test process. With
// RILL_TEST_BOOTSTRAP=host:port they run unchanged against that cluster instead.
// The embedded broker keeps only about 5 MiB per partition; tests keep their data well
// under that (each says how much it writes).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rill/clients.hpp>
#include <rill/config.hpp>
#include <rill/embedded_broker.hpp>

extern char** environ;

namespace rill::test {

using namespace std::chrono_literals;

// The cluster a test talks to, and how child processes reach it.
class cluster {
 public:
  cluster() {
    if (const char* real = std::getenv("RILL_TEST_BOOTSTRAP"); real != nullptr && *real != '\0') {
      _bootstrap = real;
    } else {
      _broker.emplace(1);
      _bootstrap = _broker->bootstrap_servers();
      _control = "127.0.0.1:" + std::to_string(_broker->serve_control());
    }
  }
  bool embedded() const { return _broker.has_value(); }
  rill::embedded_broker& broker() { return *_broker; }
  const std::string& bootstrap() const { return _bootstrap; }
  // The embedded broker's control address (broker.control); empty on a real cluster.
  const std::string& control() const { return _control; }
  // Client properties that reach this cluster (control port included for the embedded one).
  std::map<std::string, std::string> props() const {
    if (_control.empty()) return {};
    return {{"broker.control", _control}};
  }
  // The embedded broker waits session.timeout.ms - 1 s before a group's next generation
  // whenever a member comes or goes; a short session timeout keeps rebalances quick.
  rill::config app_config(const std::string& app_id) const {
    rill::config c{{"application.id", app_id},
                   {"bootstrap.servers", _bootstrap},
                   {"consumer.session.timeout.ms", "6000"},
                   {"consumer.heartbeat.interval.ms", "1000"}};
    if (!_control.empty()) c.set("broker.control", _control);
    return c;
  }
  void create_topic(const std::string& name, std::int32_t partitions) const {
    rill::create_topic(_bootstrap, name, partitions, props());
  }
  // A properties file for child processes.
  std::string write_properties(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fprintf(f, "bootstrap.servers=%s\n", _bootstrap.c_str());
    if (!_control.empty()) std::fprintf(f, "broker.control=%s\n", _control.c_str());
    std::fclose(f);
    return path;
  }

 private:
  std::optional<rill::embedded_broker> _broker;
  std::string _bootstrap;
  std::string _control;
};

// A name no other test (or earlier run against a shared cluster) has used.
// Runs `command` through the shell; what it wrote to stdout.
inline std::string run_output(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

inline std::string unique(const std::string& base) {
  static std::atomic<int> counter{0};
  return base + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
}

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                     std::chrono::milliseconds every = 50ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(every);
  }
  return condition();
}

// A child process; killed (SIGKILL) if still running when destroyed.
class process {
 public:
  process(const std::string& path, const std::vector<std::string>& args,
          const std::string& log_file = "") {
    std::vector<char*> argv;
    std::vector<std::string> all{path};
    all.insert(all.end(), args.begin(), args.end());
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!log_file.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0644);
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    if (posix_spawn(&_pid, path.c_str(), &actions, nullptr, argv.data(), environ) != 0) _pid = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~process() {
    if (running()) kill(SIGKILL);
    wait(10s);
  }
  bool started() const { return _pid > 0; }
  pid_t pid() const { return _pid; }
  void kill(int sig) const {
    if (_pid > 0) ::kill(_pid, sig);
  }
  bool running() {
    if (_pid <= 0 || _status) return false;
    int status = 0;
    if (::waitpid(_pid, &status, WNOHANG) == _pid) {
      _status = status;
      return false;
    }
    return true;
  }
  // Waits for the process to end; returns its exit code (128+signal if killed), or
  // nullopt if it is still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (!wait_for([&] { return !running(); }, timeout, 20ms)) return std::nullopt;
    if (!_status) return std::nullopt;
    if (WIFEXITED(*_status)) return WEXITSTATUS(*_status);
    if (WIFSIGNALED(*_status)) return 128 + WTERMSIG(*_status);
    return std::nullopt;
  }

 private:
  pid_t _pid = -1;
  std::optional<int> _status;
};

}  // namespace rill::test
