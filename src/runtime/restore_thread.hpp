// Restoration beside processing (Kafka Streams' state updater): a stream thread's restorer,
// run on a restore thread of its own while the stream thread keeps processing its running
// tasks (restore.thread.enabled=true), or inline, on the stream thread between polls.
//
// Lifecycle: made by its stream thread in set_up(); stop() (or the destructor) joins the
// restore thread after at most the restore round under way (a poll of 10 ms, writing what it
// brought, the restore listener's calls). Threading: every call but the restore thread's own
// loop comes from the stream thread. The restorer is used under one mutex: add() and
// remove() wait for the round under way, and the restore thread lets them in before its next
// one; take_restored(), active(), restored() and remaining() never wait for a round (they
// read what the last round left in the outbox). A task handed over by add() is touched by the
// restore thread until it finished restoring (it then waits in the outbox, untouched) or
// remove() returned; the stream thread never processes a restoring task, so its stores have
// one user at a time.
// Errors: what a restore round throws (a corrupt changelog, a fatal consumer error, an
// injected crash) stops restoring and is rethrown, as thrown, by the next take_restored().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "src/runtime/restorer.hpp"

namespace rill::runtime {

class restore_thread {
 public:
  restore_thread(std::unique_ptr<restorer> r, bool threaded, log::logger log);
  ~restore_thread();
  restore_thread(const restore_thread&) = delete;
  restore_thread& operator=(const restore_thread&) = delete;

  bool threaded() const noexcept { return _threaded; }
  // As restorer::add, on the caller: reads the ends of the tasks' changelogs and starts
  // restoring those that have something to restore.
  std::vector<restorer::start> add(const std::vector<stream_task*>& tasks);
  // Forgets a task that closes. Once it returns, nothing touches the task or its stores here
  // (a restored one not taken yet is dropped from the outbox too).
  void remove(const stream_task& task);
  // Takes the tasks whose stores are all restored. Inline, restores for up to `timeout`
  // first; threaded, never waits. Rethrows what a restore round threw.
  std::vector<stream_task*> take_restored(std::chrono::milliseconds timeout);
  // Tasks restoring, or restored and not taken yet.
  bool active() const noexcept { return _active.load(); }
  std::uint64_t restored() const noexcept { return _restored.load(); }
  // Changelog records a task still has to restore, as of the last round.
  std::int64_t remaining(const task_id& task) const;
  // Joins the restore thread; the tasks left are only removed from here on. Idempotent.
  void stop();

 private:
  class caller_lock;
  void run();
  // Under _mutex: one restore_some(); false if it brought nothing.
  bool round(std::chrono::milliseconds timeout);
  // Under _mutex: what the stream thread reads of the restorer, into the outbox.
  void publish(std::vector<stream_task*> done, std::exception_ptr failure);

  const bool _threaded;
  log::logger _log;

  std::mutex _mutex;              // the restorer's; then _outbox_mutex, never the other way round
  std::condition_variable _wake;  // work came, a caller is done, or stop
  std::unique_ptr<restorer> _restorer;
  bool _stop = false;
  bool _failed = false;  // a round threw: no more rounds
  std::atomic<int> _callers_waiting{0};

  mutable std::mutex _outbox_mutex;  // the outbox: what the last round left
  std::vector<stream_task*> _finished;
  std::exception_ptr _failure;
  std::map<task_id, std::int64_t> _remaining;
  bool _restoring = false;
  std::atomic<bool> _active{false};
  std::atomic<std::uint64_t> _restored{0};

  std::thread _thread;  // last: started once everything above is
};

}  // namespace rill::runtime
