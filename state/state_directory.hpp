// State directories: `<state.dir>/<application.id>/<task_id>/`, each locked with flock while
// a task uses it, so two instances (or threads) on one host never open the same store.
// Directories of tasks no longer assigned are deleted after state.cleanup.delay.ms.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace rill::state {

class task_lock {
 public:
  task_lock(int fd, std::string dir) : _fd(fd), _dir(std::move(dir)) {}
  ~task_lock();
  task_lock(const task_lock&) = delete;
  task_lock& operator=(const task_lock&) = delete;
  const std::string& dir() const noexcept { return _dir; }

 private:
  int _fd;
  std::string _dir;
};

class state_directory {
 public:
  // root: <state.dir>/<application.id>; created if missing.
  explicit state_directory(std::string root);
  const std::string& root() const noexcept { return _root; }
  // Locks the task's directory (creating it). nullptr: someone else holds it.
  std::unique_ptr<task_lock> try_lock(const std::string& task) const;
  // Deletes task directories nobody holds that were not used for `older_than`. Returns
  // the names of the deleted ones.
  std::vector<std::string> clean(std::chrono::milliseconds older_than) const;

  // Deletes `root` (<state.dir>/<application.id>) and everything in it (Kafka Streams'
  // cleanUp). Refuses, changing nothing, while a live instance holds a lock on a file in it
  // (a task directory's lock, the process id): throws rill::error naming the file. Returns
  // false when there was nothing to delete.
  static bool wipe(const std::string& root);

 private:
  std::string _root;
};

}  // namespace rill::state
