#include "src/http/dot.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <vector>

namespace rill::http::detail {

namespace {

std::string find_program(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0 ? program : std::string();
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    auto dir = dirs.substr(start, end - start);
    auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

struct fd {
  int n = -1;
  ~fd() { reset(); }
  void reset() {
    if (n >= 0) ::close(n);
    n = -1;
  }
};

// Feeds `in` to the child and reads its stdout and stderr until both close or the deadline.
bool pump(fd& in, fd& out, fd& err, const std::string& input, std::string& stdout_text,
          std::string& stderr_text, std::chrono::steady_clock::time_point deadline) {
  std::size_t written = 0;
  if (input.empty()) in.reset();
  char buf[16384];
  while (out.n >= 0 || err.n >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[3] = {{in.n, POLLOUT, 0}, {out.n, POLLIN, 0}, {err.n, POLLIN, 0}};
    int r = ::poll(fds, 3, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (in.n >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      auto n = ::write(in.n, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN) in.reset();  // dot stopped reading: its exit says why
      if (written == input.size()) in.reset();
    }
    for (auto [f, text, i] : {std::tuple{&out, &stdout_text, 1}, {&err, &stderr_text, 2}}) {
      if (f->n < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      auto n = ::read(f->n, buf, sizeof buf);
      if (n > 0) text->append(buf, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) f->reset();
    }
  }
  return true;
}

}  // namespace

dot_result run_dot(const std::string& program, const std::string& dot_text,
                   std::chrono::milliseconds timeout) {
  dot_result result;
  auto path = find_program(program);
  if (path.empty()) {
    result.what = dot_result::outcome::missing;
    result.output = "Graphviz '" + program +
                    "' is not installed (Debian: apt-get install graphviz); /topology has the DOT";
    return result;
  }
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return {dot_result::outcome::failed, std::strerror(errno)};
  fd in_r{in[0]}, in_w{in[1]};
  if (pipe2(out, O_CLOEXEC) != 0) return {dot_result::outcome::failed, std::strerror(errno)};
  fd out_r{out[0]}, out_w{out[1]};
  if (pipe2(err, O_CLOEXEC) != 0) return {dot_result::outcome::failed, std::strerror(errno)};
  fd err_r{err[0]}, err_w{err[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.n, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.n, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.n, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe_signal;
  sigemptyset(&none);
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe_signal);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string arg0 = program, arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return {dot_result::outcome::failed, "cannot run " + path + ": " + std::strerror(rc)};
  in_r.reset();
  out_w.reset();
  err_w.reset();
  for (int f : {in_w.n, out_r.n, err_r.n}) fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK);

  std::string svg, errors;
  bool finished =
      pump(in_w, out_r, err_r, dot_text, svg, errors, std::chrono::steady_clock::now() + timeout);
  if (!finished) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    result.what = dot_result::outcome::timed_out;
    result.output = path + " did not finish within " + std::to_string(timeout.count()) + " ms";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    result.what = dot_result::outcome::failed;
    result.output = path + " failed: " + errors;
  } else {
    result.what = dot_result::outcome::ok;
    result.output = std::move(svg);
  }
  return result;
}

}  // namespace rill::http::detail
