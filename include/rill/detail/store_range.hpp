// A single-pass range over a byte-level store iterator: each entry decoded into T, or skipped
// when the decoder says so. What the store facades return from their scans; works with
// range-for and std::ranges algorithms (an input range with std::default_sentinel_t).
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include <rill/detail/kv_store.hpp>

namespace rill::detail {

template <class T>
class store_range {
 public:
  // Returns the entry, or nullopt to skip it; `stop` set to true ends the range (the scan has
  // passed what it wanted).
  using decoder = std::function<std::optional<T>(bytes_view key, bytes_view value, bool& stop)>;

  store_range(std::unique_ptr<kv_iterator> it, decoder decode)
      : _it(std::move(it)), _decode(std::move(decode)) {}

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(store_range* r) : _r(r) { _r->load(); }
    const T& operator*() const { return *_r->_current; }
    const T* operator->() const { return &*_r->_current; }
    iterator& operator++() {
      _r->_it->next();
      _r->load();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !_r->_current.has_value(); }

   private:
    store_range* _r = nullptr;
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  void load() {
    _current.reset();
    while (!_stopped && _it->valid()) {
      _current = _decode(_it->key(), _it->value(), _stopped);
      if (_current || _stopped) {
        if (_stopped) _current.reset();
        return;
      }
      _it->next();
    }
  }
  std::unique_ptr<kv_iterator> _it;
  decoder _decode;
  std::optional<T> _current;
  bool _stopped = false;
};

}  // namespace rill::detail
