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
  // Stores hold the app's data: only the owner may read them (as Kafka Streams sets).
  fs::permissions(_root, fs::perms::owner_all, ec);
}

std::unique_ptr<task_lock> state_directory::try_lock(const std::string& task) const {
  const std::string dir = _root + "/" + task;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw error(fmt::format("cannot create task directory '{}': {}", dir, ec.message()));
  fs::permissions(dir, fs::perms::owner_all, ec);
  int fd = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  // ENOENT: the cleaner moved the directory away since we made it; it is not ours yet.
  if (fd < 0 && errno == ENOENT) return nullptr;
  if (fd < 0) throw error(fmt::format("cannot open '{}/.lock': {}", dir, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  // The cleaner may have taken this directory away between our open and our lock (it moves a
  // directory it deletes aside first): then the file we locked is no longer the one at the
  // path, and the directory is not ours. The caller tries again later.
  struct stat locked {};
  struct stat at_path {};
  if (::fstat(fd, &locked) != 0 || ::stat((dir + "/.lock").c_str(), &at_path) != 0 ||
      locked.st_ino != at_path.st_ino || locked.st_dev != at_path.st_dev) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<task_lock>(fd, dir);
}

std::vector<std::string> state_directory::clean(std::chrono::milliseconds older_than) const {
  std::vector<std::string> removed;
  std::error_code ec;
  std::vector<fs::path> leftovers;  // moved aside by a cleaner that died before deleting them
  for (const auto& entry : fs::directory_iterator(_root, ec)) {
    if (!entry.is_directory(ec)) continue;
    if (entry.path().filename().string().starts_with(".deleting-")) {
      leftovers.push_back(entry.path());
      continue;
    }
    const std::string lock_path = entry.path().string() + "/.lock";
    auto modified = fs::last_write_time(lock_path, ec);
    if (ec) continue;
    if (fs::file_time_type::clock::now() - modified < older_than) continue;
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      // Moved aside before it is deleted, under the lock: whoever opens the task's directory
      // from now on makes a new one, and whoever had opened the old lock file finds, once it
      // gets the lock, that the file is no longer at the path (try_lock).
      const std::string name = entry.path().filename().string();
      const fs::path aside =
          entry.path().parent_path() / fmt::format(".deleting-{}-{}-{}", name, ::getpid(), fd);
      fs::rename(entry.path(), aside, ec);
      if (!ec) {
        fs::remove_all(aside, ec);
        removed.push_back(name);
      }
      ::flock(fd, LOCK_UN);
    }
    ::close(fd);
  }
  for (const auto& p : leftovers) fs::remove_all(p, ec);
  return removed;
}

bool state_directory::wipe(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) return false;
  // Every lock file of the tree, locked by us for the time of the deletion, so that no
  // instance can start using the directory halfway through.
  std::vector<int> held;
  auto release = [&] {
    for (int fd : held) ::close(fd);  // closing drops the lock
  };
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    if (name != ".lock" && !name.starts_with("rill-process-")) continue;
    int fd = ::open(it->path().c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      release();
      throw error(fmt::format(
          "cannot delete state directory '{}': '{}' is locked by a running instance; stop it "
          "first",
          root, it->path().string()));
    }
    held.push_back(fd);
  }
  fs::remove_all(root, ec);
  release();
  if (ec) throw error(fmt::format("cannot delete state directory '{}': {}", root, ec.message()));
  return true;
}

}  // namespace rill::state
