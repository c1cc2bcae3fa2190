// A FIFO over one growable array: push_back / pop_front without an allocation per element,
// which std::deque makes every few elements when used as a queue.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace rill::runtime {

template <class T>
class ring_buffer {
 public:
  bool empty() const noexcept { return _size == 0; }
  std::size_t size() const noexcept { return _size; }
  T& front() noexcept { return _slots[_head]; }
  const T& front() const noexcept { return _slots[_head]; }

  void push_back(T&& v) {
    if (_size == _slots.size()) grow();
    std::size_t slot = _head + _size;
    if (slot >= _slots.size()) slot -= _slots.size();
    _slots[slot] = std::move(v);
    ++_size;
  }
  // Moves the front element out; its slot is left moved-from until reused.
  T pop_front() {
    T v = std::move(_slots[_head]);
    _head = _head + 1 == _slots.size() ? 0 : _head + 1;
    --_size;
    return v;
  }
  // Drops the front element in place (its slot is reset to T{}): for a caller that worked on
  // front() where it lies rather than moving it out.
  void drop_front() {
    _slots[_head] = T{};
    _head = _head + 1 == _slots.size() ? 0 : _head + 1;
    --_size;
  }
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  void grow() {
    std::vector<T> bigger(_slots.empty() ? 16 : _slots.size() * 2);
    for (std::size_t i = 0; i < _size; ++i)
      bigger[i] = std::move(_slots[(_head + i) % _slots.size()]);
    _slots = std::move(bigger);
    _head = 0;
  }
  std::vector<T> _slots;
  std::size_t _head = 0;
  std::size_t _size = 0;
};

}  // namespace rill::runtime
