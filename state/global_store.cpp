#include "state/global_store.hpp"

#include <mutex>
#include <utility>
#include <vector>

namespace rill::state {

namespace {

std::string str(bytes_view b) {
  return std::string(as_chars(b));
}

// A copy of the entries a read covers.
class snapshot_iterator final : public detail::kv_iterator {
 public:
  explicit snapshot_iterator(std::vector<std::pair<std::string, std::string>> entries)
      : _entries(std::move(entries)) {}
  bool valid() const override { return _at < _entries.size(); }
  void next() override { ++_at; }
  bytes_view key() const override { return as_bytes(_entries[_at].first); }
  bytes_view value() const override { return as_bytes(_entries[_at].second); }

 private:
  std::vector<std::pair<std::string, std::string>> _entries;
  std::size_t _at = 0;
};

}  // namespace

bool global_store::get(bytes_view key, bytes& out) {
  std::shared_lock lock(_mutex);
  auto it = _map.find(str(key));
  if (it == _map.end()) return false;
  out.assign(as_bytes(it->second).begin(), as_bytes(it->second).end());
  return true;
}

void global_store::put(bytes_view key, bytes_view value) {
  std::string k = str(key);
  std::string v = str(value);
  std::unique_lock lock(_mutex);
  _map.insert_or_assign(std::move(k), std::move(v));
}

void global_store::remove(bytes_view key) {
  std::string k = str(key);
  std::unique_lock lock(_mutex);
  _map.erase(k);
}

std::unique_ptr<detail::kv_iterator> global_store::range(std::optional<bytes_view> from,
                                                         std::optional<bytes_view> to) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::optional<std::string> f = from ? std::optional(str(*from)) : std::nullopt;
  const std::optional<std::string> t = to ? std::optional(str(*to)) : std::nullopt;
  std::shared_lock lock(_mutex);
  if (f && t && *f > *t) return std::make_unique<snapshot_iterator>(std::move(out));
  auto begin = f ? _map.lower_bound(*f) : _map.begin();
  auto end = t ? _map.upper_bound(*t) : _map.end();
  for (auto it = begin; it != end; ++it) out.emplace_back(it->first, it->second);
  return std::make_unique<snapshot_iterator>(std::move(out));
}

std::unique_ptr<detail::kv_iterator> global_store::prefix_scan(bytes_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string p = str(prefix);
  std::shared_lock lock(_mutex);
  for (auto it = _map.lower_bound(p); it != _map.end() && it->first.compare(0, p.size(), p) == 0;
       ++it)
    out.emplace_back(it->first, it->second);
  return std::make_unique<snapshot_iterator>(std::move(out));
}

std::uint64_t global_store::approximate_count() {
  std::shared_lock lock(_mutex);
  return _map.size();
}

}  // namespace rill::state
