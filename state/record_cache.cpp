#include "state/record_cache.hpp"

namespace rill::state {

record_cache::~record_cache() = default;

std::unique_ptr<record_cache::store> record_cache::wrap(detail::kv_store& underlying,
                                                        std::function<std::int64_t()> clock) {
  return std::make_unique<store>(*this, underlying, std::move(clock));
}

void record_cache::make_room() {
  while (_bytes > _max && !_lru.empty()) {
    lru_entry victim = _lru.front();
    ++_evictions;
    victim.owner->evict(victim.key);
  }
}

record_cache::store::~store() {
  clear();
}

void record_cache::store::touch(entry& e) {
  _cache._lru.splice(_cache._lru.end(), _cache._lru, e.lru);
}

bool record_cache::store::get(bytes_view key, bytes& out) {
  std::string k(as_chars(key));
  if (auto it = _entries.find(k); it != _entries.end()) {
    touch(it->second);
    if (!it->second.value) return false;
    out.assign(as_bytes(*it->second.value).begin(), as_bytes(*it->second.value).end());
    return true;
  }
  const bool found = _underlying.get(key, out);
  std::optional<std::string> value;
  if (found) value = std::string(as_chars(out));
  entry e;
  e.size = size_of(k, value);
  e.value = std::move(value);
  e.lru = _cache._lru.insert(_cache._lru.end(), {this, k});
  _cache._bytes += e.size;
  _entries.emplace(std::move(k), std::move(e));
  _cache.make_room();
  return found;
}

void record_cache::store::write(bytes_view key, std::optional<std::string> value,
                                const rill::headers* h) {
  std::string k(as_chars(key));
  auto [it, fresh] = _entries.try_emplace(k);
  entry& e = it->second;
  if (fresh) {
    e.lru = _cache._lru.insert(_cache._lru.end(), {this, k});
  } else {
    touch(e);
    _cache._bytes -= e.size;
  }
  // The newest write goes last; an entry already dirty moves there without a new node.
  if (e.dirty) {
    _dirty.splice(_dirty.end(), _dirty, e.dirty_at);
  } else {
    e.dirty_at = _dirty.insert(_dirty.end(), k);
    if (!fresh) {  // a clean entry holds what the layer below holds
      e.below = std::move(e.value);
      e.below_known = true;
    }
  }
  // Read now, while it is there to read, if the flush will need it (a read the flush would
  // otherwise make).
  if (!e.below_known && (_listener != nullptr || !value)) {
    bytes old;
    e.below.reset();
    if (_underlying.get(key, old)) e.below = std::string(as_chars(old));
    e.below_known = true;
  }
  e.dirty = true;
  e.timestamp = _clock ? _clock() : 0;
  // Assigned, not rebuilt: a hot key's headers reuse the entry's strings.
  if (h != nullptr && !h->empty())
    e.headers = *h;
  else if (!e.headers.empty())
    e.headers.clear();
  e.size = size_of(k, value) + size_of(e.below) + (e.headers.empty() ? 0 : size_of(e.headers));
  e.value = std::move(value);
  _cache._bytes += e.size;
  _cache.make_room();
}

void record_cache::store::flush_entry(const std::string& key) {
  entry& e = _entries.at(key);
  _dirty.erase(e.dirty_at);
  e.dirty = false;
  // Copies: the listener may write to other cached stores, whose eviction may drop this entry.
  const std::optional<std::string> value = e.value;
  const std::int64_t timestamp = e.timestamp;
  rill::headers headers;  // moved out: a clean entry needs none
  if (!e.headers.empty()) {
    headers = std::move(e.headers);
    e.headers.clear();
    _cache._bytes -= size_of(headers);
    e.size -= size_of(headers);
  }
  std::optional<std::string> below;
  if (e.below_known) {
    below = std::move(e.below);
    _cache._bytes -= size_of(below);
    e.size -= size_of(below);
  } else if (bytes b; (_listener != nullptr || !value) && _underlying.get(as_bytes(key), b)) {
    below = std::string(as_chars(b));  // a listener set after the write
  }
  e.below.reset();
  e.below_known = false;
  const bool had_old = below.has_value();
  if (value)
    _underlying.put(as_bytes(key), as_bytes(*value));
  else if (had_old)
    _underlying.remove(as_bytes(key));
  if (_listener != nullptr && (value || had_old)) {
    std::optional<bytes_view> new_view;
    if (value) new_view = as_bytes(*value);
    std::optional<bytes_view> old_view;
    if (had_old) old_view = as_bytes(*below);
    _listener->on_flush(as_bytes(key), new_view, old_view, timestamp, headers);
  }
}

void record_cache::store::flush() {
  while (!_dirty.empty()) {
    flush_entry(std::string(_dirty.front()));
    if (_cache._flush_hook && !_dirty.empty()) _cache._flush_hook();
  }
}

void record_cache::store::evict(const std::string& key) {
  auto it = _entries.find(key);
  if (it == _entries.end()) return;
  if (it->second.dirty) flush_entry(key);
  it = _entries.find(key);  // flushing may have evicted it already
  if (it == _entries.end()) return;
  _cache._bytes -= it->second.size;
  _cache._lru.erase(it->second.lru);
  _entries.erase(it);
}

void record_cache::store::clear() {
  for (auto& [key, e] : _entries) {
    _cache._bytes -= e.size;
    _cache._lru.erase(e.lru);
  }
  _entries.clear();
  _dirty.clear();
}

std::unique_ptr<detail::kv_iterator> record_cache::store::range(std::optional<bytes_view> from,
                                                                std::optional<bytes_view> to) {
  flush_if([&](std::string_view k) {
    return (!from || k >= as_chars(*from)) && (!to || k <= as_chars(*to));
  });
  return _underlying.range(from, to);
}

std::unique_ptr<detail::kv_iterator> record_cache::store::prefix_scan(bytes_view prefix) {
  flush_if([&](std::string_view k) { return k.starts_with(as_chars(prefix)); });
  return _underlying.prefix_scan(prefix);
}

void record_cache::store::flush_if(const std::function<bool(std::string_view)>& covered) {
  std::vector<std::string> keys;
  for (const auto& k : _dirty) {
    if (covered(k)) keys.push_back(k);
  }
  for (const auto& k : keys) {
    auto it = _entries.find(k);  // an earlier flush's listener may have evicted it meanwhile
    if (it != _entries.end() && it->second.dirty) flush_entry(k);
  }
}

std::uint64_t record_cache::store::approximate_count() {
  return _underlying.approximate_count() + _dirty.size();
}

}  // namespace rill::state
