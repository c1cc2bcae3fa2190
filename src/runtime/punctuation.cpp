#include "src/runtime/punctuation.hpp"

#include <algorithm>

namespace rill::runtime {

cancellable punctuation_queue::schedule(timestamp_ms first, std::int64_t interval,
                                        std::function<void(timestamp_ms)> fn, detail::node& owner) {
  auto flag = std::make_shared<bool>(false);
  _entries.push_back({first, interval, _next_seq++, std::move(fn), flag, &owner});
  std::push_heap(_entries.begin(), _entries.end(), later);
  return cancellable(std::move(flag));
}

bool punctuation_queue::run_due(timestamp_ms now, const invoker& invoke) {
  bool ran = false;
  // Entries rescheduled during this call wait until it ends, so one call runs each at most once.
  std::vector<entry> rescheduled;
  while (!_entries.empty() && _entries.front().due <= now) {
    std::pop_heap(_entries.begin(), _entries.end(), later);
    entry e = std::move(_entries.back());
    _entries.pop_back();
    if (*e.cancelled) continue;
    invoke(*e.owner, e.fn, now);
    ran = true;
    if (*e.cancelled) continue;
    const std::int64_t missed = (now - e.due) / e.interval;
    e.due += (missed + 1) * e.interval;
    rescheduled.push_back(std::move(e));
  }
  for (auto& e : rescheduled) {
    _entries.push_back(std::move(e));
    std::push_heap(_entries.begin(), _entries.end(), later);
  }
  return ran;
}

}  // namespace rill::runtime
