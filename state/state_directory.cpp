#include "state/state_directory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include <rill/errors.hpp>

namespace rill::state {

namespace fs = std::filesystem;

task_lock::~task_lock() {
  // Touch the lock file so that the cleaner measures idleness from the last use.
  ::futimens(_fd, nullptr);
  ::flock(_fd, LOCK_UN);
  ::close(_fd);
}

state_directory::state_directory(std::string root) : _root(std::move(root)) {
  std::error_code ec;
  fs::create_directories(_root, ec);
  if (ec) throw error(fmt::format("cannot create state directory '{}': {}", _root, ec.message()));
}

std::unique_ptr<task_lock> state_directory::try_lock(const std::string& task) const {
  const std::string dir = _root + "/" + task;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw error(fmt::format("cannot create task directory '{}': {}", dir, ec.message()));
  int fd = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw error(fmt::format("cannot open '{}/.lock': {}", dir, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<task_lock>(fd, dir);
}

std::vector<std::string> state_directory::clean(std::chrono::milliseconds older_than) const {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(_root, ec)) {
    if (!entry.is_directory()) continue;
    const std::string lock_path = entry.path().string() + "/.lock";
    auto modified = fs::last_write_time(lock_path, ec);
    if (ec) continue;
    if (fs::file_time_type::clock::now() - modified < older_than) continue;
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      fs::remove_all(entry.path(), ec);
      if (!ec) removed.push_back(entry.path().filename().string());
      ::flock(fd, LOCK_UN);
    }
    ::close(fd);
  }
  return removed;
}

}  // namespace rill::state
