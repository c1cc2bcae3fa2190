// A child process for a test, whose standard output the test reads through a pipe. Every
// read waits on the pipe (poll), bounded by a deadline that fails with a message naming
// what was awaited; nothing sleeps. The child is killed and reaped when the object goes.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace rill::test {

class child_process {
 public:
  // Starts args[0] (a path) with args; its stdout goes to the pipe, its stderr to the test's.
  explicit child_process(std::vector<std::string> args) : _what(args.at(0)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&_pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    _out = fds[0];
    if (rc != 0) {
      ::close(_out);
      throw std::runtime_error("cannot start " + _what + ": " + std::strerror(rc));
    }
  }
  ~child_process() { kill(); }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line the child prints, without its newline. Throws when the child closes its
  // output or prints no whole line within `limit`; `awaited` says what the line is.
  std::string read_line(std::chrono::milliseconds limit, const std::string& awaited) {
    const bound w{std::chrono::steady_clock::now() + limit, limit, awaited};
    for (;;) {
      if (auto nl = _buffer.find('\n'); nl != std::string::npos) {
        std::string line = _buffer.substr(0, nl);
        _buffer.erase(0, nl + 1);
        return line;
      }
      if (!read_some(w)) {
        throw std::runtime_error(_what + " ended without printing " + awaited +
                                 (_buffer.empty() ? "" : "; it printed: " + _buffer));
      }
    }
  }

  // Waits for the child to close its output and exit; returns what it printed. Throws when
  // it does not finish within `limit` or exits with a failure.
  std::string finish(std::chrono::milliseconds limit) {
    const bound w{std::chrono::steady_clock::now() + limit, limit, "exit"};
    while (read_some(w)) {
    }
    int status = 0;
    ::waitpid(_pid, &status, 0);  // its output is closed: it is exiting
    _pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error(_what + " failed (status " + std::to_string(status) +
                               "): " + _buffer);
    return std::exchange(_buffer, {});
  }

  void kill() {
    if (_out >= 0) ::close(std::exchange(_out, -1));
    if (_pid <= 0) return;
    ::kill(_pid, SIGKILL);
    int status = 0;
    ::waitpid(_pid, &status, 0);
    _pid = -1;
  }

 private:
  static std::string errno_text() { return std::strerror(errno); }

  struct bound {
    std::chrono::steady_clock::time_point deadline;
    std::chrono::milliseconds limit;
    std::string awaited;
  };

  // Appends what the child printed; false at the end of its output. Throws at the deadline.
  bool read_some(const bound& w) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        w.deadline - std::chrono::steady_clock::now());
    pollfd p{_out, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) {
      throw std::runtime_error(_what + ": no " + w.awaited + " within " +
                               std::to_string(w.limit.count()) + " ms" +
                               (_buffer.empty() ? "" : "; it printed: " + _buffer));
    }
    char chunk[4096];
    const ssize_t n = ::read(_out, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    _buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  std::string _what;
  pid_t _pid = -1;
  int _out = -1;
  std::string _buffer;
};

}  // namespace rill::test
