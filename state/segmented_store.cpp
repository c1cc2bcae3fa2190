#include "state/segmented_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include <rill/errors.hpp>

namespace rill::state {

// Where a scan over logical keys ends: past `to` (inclusive), or at the first key without
// `prefix`.
struct scan_end {
  std::optional<bytes> to;
  std::optional<bytes> prefix;
  bool past(bytes_view logical) const {
    if (to && std::string_view(as_chars(logical)).compare(as_chars(*to)) > 0) return true;
    return prefix &&
           (logical.size() < prefix->size() ||
            std::string_view(as_chars(logical.first(prefix->size()))) != as_chars(*prefix));
  }
};

namespace {

constexpr std::size_t id_bytes = 8;

void write_be64(std::byte* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = std::byte(static_cast<std::uint8_t>(v >> (56 - 8 * i)));
}

void put_be64(bytes& out, std::uint64_t v) {
  out.resize(out.size() + 8);
  write_be64(out.data() + out.size() - 8, v);
}

std::uint64_t be64(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

bytes segment_prefix(std::int64_t segment) {
  bytes b;
  put_be64(b, static_cast<std::uint64_t>(segment));
  return b;
}

// `out` = the segment's id, then the logical key (reusing out's buffer).
void fill(bytes& out, std::int64_t segment, bytes_view logical) {
  out.resize(id_bytes + logical.size());
  write_be64(out.data(), static_cast<std::uint64_t>(segment));
  std::copy(logical.begin(), logical.end(), out.begin() + id_bytes);
}

int compare(bytes_view a, bytes_view b) {
  return std::string_view(as_chars(a)).compare(std::string_view(as_chars(b)));
}

// The entries of one segment (or, with `segment` empty, of every segment from where the
// inner iterator starts: time-ordered keys), as logical keys, up to `end`, skipping records
// past retention.
class segment_iterator final : public detail::kv_iterator {
 public:
  segment_iterator(std::unique_ptr<detail::kv_iterator> inner, std::optional<std::int64_t> segment,
                   scan_end end, const segmented_store& store)
      : _inner(std::move(inner)), _own(std::move(end)), _end(&_own), _store(store) {
    start(segment);
  }
  // Borrows `*end`, which outlives the iterator (a segment chain's).
  segment_iterator(std::unique_ptr<detail::kv_iterator> inner, std::int64_t segment,
                   const scan_end* end, const segmented_store& store)
      : _inner(std::move(inner)), _end(end), _store(store) {
    start(segment);
  }
  segment_iterator(const segment_iterator&) = delete;
  segment_iterator& operator=(const segment_iterator&) = delete;
  bool valid() const override { return _valid; }
  void next() override {
    _inner->next();
    settle();
  }
  bytes_view key() const override { return _inner->key().subspan(id_bytes); }
  bytes_view value() const override { return _inner->value(); }

 private:
  void start(std::optional<std::int64_t> segment) {
    if (segment) {
      _prefix.emplace();
      write_be64(_prefix->data(), static_cast<std::uint64_t>(*segment));
    }
    settle();
  }
  void settle() {
    for (;; _inner->next()) {
      _valid = false;
      if (!_inner->valid()) return;
      bytes_view k = _inner->key();
      if (k.size() < id_bytes) return;
      if (_prefix && compare(k.first(id_bytes), bytes_view(*_prefix)) != 0) return;
      bytes_view logical = k.subspan(id_bytes);
      if (_end->past(logical)) return;
      if (_store.time_of(logical) < _store.live_from()) continue;
      _valid = true;
      return;
    }
  }
  std::unique_ptr<detail::kv_iterator> _inner;
  std::optional<std::array<std::byte, id_bytes>> _prefix;  // the segment's id, if one segment
  scan_end _own;
  const scan_end* _end;  // &_own, or a chain's
  const segmented_store& _store;
  bool _valid = false;
};

// Several segments' iterators merged into logical key order.
class merging_iterator final : public detail::kv_iterator {
 public:
  explicit merging_iterator(std::vector<std::unique_ptr<detail::kv_iterator>> children)
      : _children(std::move(children)) {
    pick();
  }
  bool valid() const override { return _current != nullptr; }
  void next() override {
    _current->next();
    pick();
  }
  bytes_view key() const override { return _current->key(); }
  bytes_view value() const override { return _current->value(); }

 private:
  void pick() {
    _current = nullptr;
    for (auto& c : _children) {
      if (c->valid() && (_current == nullptr || compare(c->key(), _current->key()) < 0))
        _current = c.get();
    }
  }
  std::vector<std::unique_ptr<detail::kv_iterator>> _children;
  detail::kv_iterator* _current = nullptr;
};

// A key range within one key's windows ([key][from] to [key][to]): the segments its times
// fall in, one after another (their runs are already in key order), each read with one inner
// range; no probing of the other live segments.
class segment_chain final : public detail::kv_iterator {
 public:
  segment_chain(detail::kv_store& inner, const segmented_store& store, std::int64_t first,
                std::int64_t last, bytes_view from, bytes_view to)
      : _inner(inner),
        _store(store),
        _segment(first),
        _last(last),
        _from(from.begin(), from.end()) {
    _end.to.emplace(to.begin(), to.end());
    open();
  }
  bool valid() const override { return _current && _current->valid(); }
  void next() override {
    _current->next();
    if (!_current->valid()) {
      ++_segment;
      open();
    }
  }
  bytes_view key() const override { return _current->key(); }
  bytes_view value() const override { return _current->value(); }

 private:
  // Opens the next segment that has something in range (the last one let go first, so that
  // the inner store may reuse what it held).
  void open() {
    for (; _segment <= _last; ++_segment) {
      _current.reset();
      fill(_lo, _segment, _from);
      fill(_hi, _segment, *_end.to);
      _current.emplace(_inner.range(bytes_view(_lo), bytes_view(_hi)), _segment, &_end, _store);
      if (_current->valid()) return;
    }
  }
  detail::kv_store& _inner;
  const segmented_store& _store;
  std::int64_t _segment;
  std::int64_t _last;
  bytes _from;
  scan_end _end;
  bytes _lo;
  bytes _hi;
  std::optional<segment_iterator> _current;
};

// [key][from] and [key][to]: the same key, then a time and `tail` more bytes.
bool one_key(bytes_view from, bytes_view to, std::size_t tail) {
  return from.size() == to.size() && from.size() >= 8 + tail &&
         std::equal(from.begin(), from.end() - 8 - tail, to.begin());
}

}  // namespace

std::int64_t default_segment_ms(std::int64_t retention_ms) {
  return std::max<std::int64_t>(retention_ms / 2, 60000);
}

segmented_store::segmented_store(detail::kv_store& inner, segmentation s) : _inner(inner), _s(s) {
  if (_s.segment_ms <= 0)
    throw error(fmt::format("store '{}': segment interval must be > 0", name()));
  recover_newest();
}

// A store reopened with data (RocksDB across a restart) carries on with the newest time it
// holds, so that what had expired stays expired: the last segment is scanned for it.
void segmented_store::recover_newest() {
  auto first = _inner.range(std::nullopt, std::nullopt);
  if (!first->valid() || first->key().size() < id_bytes) return;
  _dropped_below = static_cast<std::int64_t>(be64(first->key().data()));
  std::int64_t last = _dropped_below;
  for (;;) {  // the highest segment, by seeking past each one
    if (last == std::numeric_limits<std::int64_t>::max()) break;
    auto probe = _inner.range(bytes_view(segment_prefix(last + 1)), std::nullopt);
    if (!probe->valid() || probe->key().size() < id_bytes) break;
    last = static_cast<std::int64_t>(be64(probe->key().data()));
  }
  const bytes prefix = segment_prefix(last);
  for (auto it = _inner.range(bytes_view(prefix), std::nullopt); it->valid(); it->next()) {
    bytes_view k = it->key();
    if (k.size() < id_bytes || !std::equal(prefix.begin(), prefix.end(), k.begin())) break;
    _newest = std::max(_newest, time_of(k.subspan(id_bytes)));
  }
}

std::int64_t segmented_store::time_of(bytes_view logical) const {
  if (logical.size() < 8 || (_s.where == time_at::before_end && logical.size() < 16)) {
    throw error(
        fmt::format("store '{}': a key of {} bytes carries no time", name(), logical.size()));
  }
  switch (_s.where) {
    case time_at::end:
      return static_cast<std::int64_t>(be64(logical.data() + logical.size() - 8));
    case time_at::before_end:
      return static_cast<std::int64_t>(be64(logical.data() + logical.size() - 16));
    case time_at::start:
      return static_cast<std::int64_t>(be64(logical.data()));
  }
  return 0;
}

std::int64_t segmented_store::segment_of(std::int64_t time) const {
  return std::max<std::int64_t>(time, 0) / _s.segment_ms;
}

std::int64_t segmented_store::live_from() const {
  if (_newest < 0) return std::numeric_limits<std::int64_t>::min();
  return _newest - _s.retention_ms + 1;
}

void segmented_store::observe(std::int64_t time) {
  if (time <= _newest) return;
  _newest = time;
  drop_expired();
}

void segmented_store::drop_expired() {
  if (_newest < 0) return;
  const std::int64_t min_live = segment_of(std::max<std::int64_t>(live_from(), 0));
  if (min_live <= _dropped_below) return;
  _inner.drop_range(segment_prefix(_dropped_below), segment_prefix(min_live));
  _dropped_below = min_live;
}

bytes segmented_store::physical(bytes_view logical) {
  const std::int64_t t = time_of(logical);
  observe(t);
  bytes out;
  fill(out, segment_of(t), logical);
  return out;
}

bool segmented_store::get(bytes_view key, bytes& out) {
  const std::int64_t t = time_of(key);
  if (t < live_from()) return false;
  fill(_key_buf, segment_of(t), key);
  return _inner.get(_key_buf, out);
}

void segmented_store::put(bytes_view key, bytes_view value) {
  const std::int64_t t = time_of(key);
  observe(t);
  if (t < live_from()) return;  // a write into an expired segment: gone already
  fill(_key_buf, segment_of(t), key);
  _inner.put(_key_buf, value);
}

void segmented_store::remove(bytes_view key) {
  const std::int64_t t = time_of(key);
  if (t < live_from()) return;
  fill(_key_buf, segment_of(t), key);
  _inner.remove(_key_buf);
}

std::unique_ptr<detail::kv_iterator> segmented_store::range(std::optional<bytes_view> from,
                                                            std::optional<bytes_view> to) {
  const std::size_t tail = _s.where == time_at::before_end ? 8 : 0;
  if (_s.where != time_at::start && from && to && one_key(*from, *to, tail)) {
    // One key's windows or sessions (a window fetch, a session search): only the segments
    // its times fall in.
    const std::int64_t first =
        std::max(segment_of(std::max(time_of(*from), live_from())), _dropped_below);
    const std::int64_t last =
        _newest < 0 ? first - 1 : std::min(segment_of(time_of(*to)), segment_of(_newest));
    return std::make_unique<segment_chain>(_inner, *this, first, last, *from, *to);
  }
  scan_end end;
  if (to) end.to.emplace(to->begin(), to->end());
  return scan(from, std::move(end));
}

std::unique_ptr<detail::kv_iterator> segmented_store::prefix_scan(bytes_view prefix) {
  scan_end end;
  end.prefix.emplace(prefix.begin(), prefix.end());
  return scan(prefix, std::move(end));
}

std::unique_ptr<detail::kv_iterator> segmented_store::scan(std::optional<bytes_view> from,
                                                           scan_end end) {
  if (_s.where == time_at::start) {
    // Time-ordered keys: segment order is key order, so one inner scan covers every segment.
    bytes start = segment_prefix(_dropped_below);
    if (from && segment_of(time_of(*from)) >= _dropped_below)
      fill(start, segment_of(time_of(*from)), *from);
    return std::make_unique<segment_iterator>(_inner.range(bytes_view(start), std::nullopt),
                                              std::nullopt, std::move(end), *this);
  }
  // Keys first: each live segment holds its own run of keys; each is found by seeking past
  // the one before, then the runs are merged.
  std::vector<std::unique_ptr<detail::kv_iterator>> children;
  std::int64_t next = _dropped_below;
  for (;;) {
    auto probe = _inner.range(bytes_view(segment_prefix(next)), std::nullopt);
    if (!probe->valid() || probe->key().size() < id_bytes) break;
    const auto segment = static_cast<std::int64_t>(be64(probe->key().data()));
    bytes start = segment_prefix(segment);
    if (from) fill(start, segment, *from);
    children.push_back(std::make_unique<segment_iterator>(
        _inner.range(bytes_view(start), std::nullopt), segment, end, *this));
    if (segment == std::numeric_limits<std::int64_t>::max()) break;
    next = segment + 1;
  }
  return std::make_unique<merging_iterator>(std::move(children));
}

}  // namespace rill::state
