// Kafka record headers: an ordered list of (key, value) pairs; keys may repeat and values
// may be null, as in Kafka.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rill {

struct header {
  std::string key;
  std::optional<std::string> value;  // bytes; nullopt is a null header value
  bool operator==(const header&) const = default;
};

// Value type; an empty list allocates nothing, so records without headers cost nothing.
class headers {
 public:
  headers() = default;
  headers(std::initializer_list<header> items) : _items(items) {}

  // Appends, keeping any earlier header with the same key (Kafka's Headers.add).
  headers& add(std::string key, std::optional<std::string> value) {
    _items.push_back({std::move(key), std::move(value)});
    return *this;
  }
  // Replaces every header with this key by one (remove + add).
  headers& set(std::string key, std::optional<std::string> value) {
    remove(key);
    return add(std::move(key), std::move(value));
  }
  headers& remove(std::string_view key) {
    std::erase_if(_items, [&](const header& h) { return h.key == key; });
    return *this;
  }
  // The last header with this key (Kafka's Headers.lastHeader); nullptr if none.
  const header* last(std::string_view key) const {
    auto it =
        std::find_if(_items.rbegin(), _items.rend(), [&](const header& h) { return h.key == key; });
    return it == _items.rend() ? nullptr : &*it;
  }
  // The last value for key as text; nullopt when absent or null.
  std::optional<std::string_view> get(std::string_view key) const {
    const header* h = last(key);
    if (h == nullptr || !h->value) return std::nullopt;
    return std::string_view(*h->value);
  }

  auto begin() const { return _items.begin(); }
  auto end() const { return _items.end(); }
  std::size_t size() const { return _items.size(); }
  bool empty() const { return _items.empty(); }
  void clear() { _items.clear(); }
  bool operator==(const headers&) const = default;

 private:
  std::vector<header> _items;
};

}  // namespace rill
