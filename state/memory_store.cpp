#include "state/memory_store.hpp"

namespace rill::state {

namespace {

std::string str(bytes_view b) {
  return std::string(as_chars(b));
}

class map_iterator final : public detail::kv_iterator {
 public:
  using iter = std::map<std::string, std::string>::const_iterator;
  map_iterator(iter begin, iter end) : _it(begin), _end(end) {}
  bool valid() const override { return _it != _end; }
  void next() override { ++_it; }
  bytes_view key() const override { return as_bytes(_it->first); }
  bytes_view value() const override { return as_bytes(_it->second); }

 private:
  iter _it;
  iter _end;
};

}  // namespace

bool memory_store::get(bytes_view key, bytes& out) {
  auto it = _map.find(str(key));
  if (it == _map.end()) return false;
  out.assign(as_bytes(it->second).begin(), as_bytes(it->second).end());
  return true;
}

void memory_store::put(bytes_view key, bytes_view value) {
  _map.insert_or_assign(str(key), str(value));
}

void memory_store::remove(bytes_view key) {
  _map.erase(str(key));
}

std::unique_ptr<detail::kv_iterator> memory_store::range(std::optional<bytes_view> from,
                                                         std::optional<bytes_view> to) {
  auto begin = from ? _map.lower_bound(str(*from)) : _map.begin();
  auto end = to ? _map.upper_bound(str(*to)) : _map.end();
  if (from && to && str(*from) > str(*to)) end = begin;
  return std::make_unique<map_iterator>(begin, end);
}

std::unique_ptr<detail::kv_iterator> memory_store::prefix_scan(bytes_view prefix) {
  std::string p = str(prefix);
  auto begin = _map.lower_bound(p);
  auto end = begin;
  while (end != _map.end() && end->first.compare(0, p.size(), p) == 0) ++end;
  return std::make_unique<map_iterator>(begin, end);
}

void memory_store::drop_range(bytes_view from, bytes_view to) {
  auto begin = _map.lower_bound(str(from));
  auto end = _map.lower_bound(str(to));
  if (begin != _map.end() && (end == _map.end() || begin->first < end->first))
    _map.erase(begin, end);
}

}  // namespace rill::state
