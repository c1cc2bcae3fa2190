#include "src/runtime/restore_thread.hpp"

#include <algorithm>

#include "src/runtime/logging.hpp"

namespace rill::runtime {

namespace {
using clock = std::chrono::steady_clock;
// A restore round polls this long at most; a round that brought nothing waits out the rest of
// it (a consumer that answers at once, a changelog held by an open transaction), so the
// thread does not spin.
constexpr std::chrono::milliseconds round_timeout(10);
// Idle, the thread wakes at an add() or stop(), or after this anyway.
constexpr std::chrono::milliseconds idle_wait(100);
}  // namespace

// _mutex for a call of the stream thread, which the restore thread lets in before its next
// round; the restore thread hears when it is done.
class restore_thread::caller_lock {
 public:
  explicit caller_lock(restore_thread& t) : _t(t) {
    _t._callers_waiting.fetch_add(1);
    _lock = std::unique_lock(_t._mutex);
    _t._callers_waiting.fetch_sub(1);
  }
  ~caller_lock() {
    _lock.unlock();
    _t._wake.notify_all();
  }
  caller_lock(const caller_lock&) = delete;
  caller_lock& operator=(const caller_lock&) = delete;

 private:
  restore_thread& _t;
  std::unique_lock<std::mutex> _lock;
};

restore_thread::restore_thread(std::unique_ptr<restorer> r, bool threaded, log::logger log)
    : _threaded(threaded), _log(std::move(log)), _restorer(std::move(r)) {
  if (_threaded) _thread = std::thread([this] { run(); });
}

restore_thread::~restore_thread() {
  stop();
}

void restore_thread::stop() {
  {
    caller_lock lock(*this);
    _stop = true;
  }
  if (_thread.joinable()) _thread.join();
}

std::vector<restorer::start> restore_thread::add(const std::vector<stream_task*>& tasks) {
  caller_lock lock(*this);
  auto starts = _restorer->add(tasks);
  publish({}, nullptr);
  return starts;
}

void restore_thread::remove(const stream_task& task) {
  caller_lock lock(*this);
  _restorer->remove(task);
  std::lock_guard out(_outbox_mutex);
  std::erase(_finished, &task);
  _remaining.erase(task.id());
  _restoring = _restorer->active();
  _active.store(_restoring || !_finished.empty());
}

std::vector<stream_task*> restore_thread::take_restored(std::chrono::milliseconds timeout) {
  if (!_threaded) {
    caller_lock lock(*this);
    if (!_failed && _restorer->active()) round(timeout);
  }
  std::lock_guard out(_outbox_mutex);
  if (_failure) std::rethrow_exception(_failure);
  std::vector<stream_task*> done;
  done.swap(_finished);
  _active.store(_restoring);
  return done;
}

std::int64_t restore_thread::remaining(const task_id& task) const {
  std::lock_guard out(_outbox_mutex);
  auto it = _remaining.find(task);
  return it == _remaining.end() ? 0 : it->second;
}

bool restore_thread::round(std::chrono::milliseconds timeout) {
  const std::uint64_t before = _restorer->restored();
  std::vector<stream_task*> done;
  std::exception_ptr failure;
  try {
    done = _restorer->restore_some(timeout);
  } catch (...) {
    failure = std::current_exception();
    _failed = true;
  }
  const bool brought = !done.empty() || _restorer->restored() != before;
  publish(std::move(done), failure);
  return brought;
}

void restore_thread::publish(std::vector<stream_task*> done, std::exception_ptr failure) {
  auto remaining = _restorer->remaining_by_task();
  std::lock_guard out(_outbox_mutex);
  _finished.insert(_finished.end(), done.begin(), done.end());
  if (failure && !_failure) _failure = failure;
  _remaining = std::move(remaining);
  _restoring = _restorer->active();
  _active.store(_restoring || !_finished.empty() || _failure != nullptr);
  _restored.store(_restorer->restored());
}

void restore_thread::run() {
  _log.debug("restore thread started");
  std::unique_lock lock(_mutex);
  while (!_stop) {
    // The stream thread's calls go first: they wait at most for the round under way.
    if (_callers_waiting.load() > 0) {
      _wake.wait_for(lock, idle_wait, [&] { return _stop || _callers_waiting.load() == 0; });
      continue;
    }
    if (_failed || !_restorer->active()) {
      _wake.wait_for(lock, idle_wait, [&] {
        return _stop || _callers_waiting.load() > 0 || (!_failed && _restorer->active());
      });
      continue;
    }
    const auto started = clock::now();
    if (round(round_timeout)) continue;
    _wake.wait_until(lock, started + round_timeout,
                     [&] { return _stop || _callers_waiting.load() > 0; });
  }
  _log.debug("restore thread stopped");
}

}  // namespace rill::runtime
