#include "src/runtime/store_metrics.hpp"

#include <chrono>

namespace rill::runtime {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Records a range's latency when the caller is done with it (as Kafka Streams does): the
// time from asking for the range to closing the iterator.
class metered_iterator final : public detail::kv_iterator {
 public:
  metered_iterator(std::unique_ptr<detail::kv_iterator> inner, latency_stat& stat,
                   std::int64_t started)
      : _inner(std::move(inner)), _stat(stat), _started(started) {}
  ~metered_iterator() override { _stat.add(now_ns() - _started); }
  bool valid() const override { return _inner->valid(); }
  void next() override { _inner->next(); }
  bytes_view key() const override { return _inner->key(); }
  bytes_view value() const override { return _inner->value(); }

 private:
  std::unique_ptr<detail::kv_iterator> _inner;
  latency_stat& _stat;
  std::int64_t _started;
};

}  // namespace

bool metered_store::get(bytes_view key, bytes& out) {
  if (!_timed) return _inner.get(key, out);
  const std::int64_t started = now_ns();
  const bool found = _inner.get(key, out);
  _stats.get.add(now_ns() - started);
  return found;
}

void metered_store::record_write(std::int64_t started) {
  if (_timed) _stats.put.add(now_ns() - started);
  if (std::optional<std::int64_t> e2e = _time.e2e())
    _stats.e2e.add(std::max<std::int64_t>(*e2e, 0));
}

void metered_store::put(bytes_view key, bytes_view value) {
  const std::int64_t started = _timed ? now_ns() : 0;
  _inner.put(key, value);
  record_write(started);
}

void metered_store::remove(bytes_view key) {
  const std::int64_t started = _timed ? now_ns() : 0;
  _inner.remove(key);
  record_write(started);
}

std::unique_ptr<detail::kv_iterator> metered_store::metered(std::unique_ptr<detail::kv_iterator> it,
                                                            std::int64_t started) {
  if (!_timed) return it;
  return std::make_unique<metered_iterator>(std::move(it), _stats.range, started);
}

std::unique_ptr<detail::kv_iterator> metered_store::range(std::optional<bytes_view> from,
                                                          std::optional<bytes_view> to) {
  const std::int64_t started = _timed ? now_ns() : 0;
  return metered(_inner.range(from, to), started);
}

std::unique_ptr<detail::kv_iterator> metered_store::prefix_scan(bytes_view prefix) {
  const std::int64_t started = _timed ? now_ns() : 0;
  return metered(_inner.prefix_scan(prefix), started);
}

void metered_store::metered_write(const std::function<void()>& f) {
  const std::int64_t started = _timed ? now_ns() : 0;
  f();
  record_write(started);
}

void metered_store::timed_flush(const std::function<void()>& f) {
  if (!_timed) return f();
  const std::int64_t started = now_ns();
  f();
  _stats.flush.add(now_ns() - started);
}

}  // namespace rill::runtime
