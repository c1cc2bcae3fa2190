// A FIFO over one growable array: push_back / pop_front without an allocation per element,
// which std::deque makes every few elements when used as a queue. Elements live in raw
// storage: a push constructs one in its slot and a drop destroys it, so a record queued and
// processed is moved once, not assigned over a moved-from slot and assigned again.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace rill::runtime {

template <class T>
class ring_buffer {
 public:
  ring_buffer() = default;
  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ring_buffer(ring_buffer&& o) noexcept
      : _slots(std::exchange(o._slots, nullptr)),
        _capacity(std::exchange(o._capacity, 0)),
        _head(std::exchange(o._head, 0)),
        _size(std::exchange(o._size, 0)) {}
  ring_buffer& operator=(ring_buffer&&) = delete;
  ~ring_buffer() {
    clear();
    if (_slots) std::allocator<T>().deallocate(_slots, _capacity);
  }

  bool empty() const noexcept { return _size == 0; }
  std::size_t size() const noexcept { return _size; }
  T& front() noexcept { return _slots[_head]; }
  const T& front() const noexcept { return _slots[_head]; }

  void push_back(T&& v) {
    if (_size == _capacity) grow();
    std::size_t slot = _head + _size;
    if (slot >= _capacity) slot -= _capacity;
    std::construct_at(_slots + slot, std::move(v));
    ++_size;
  }
  // Moves the front element out and drops its slot.
  T pop_front() {
    T v = std::move(_slots[_head]);
    drop_front();
    return v;
  }
  // Destroys the front element where it lies: for a caller that worked on front() in place.
  void drop_front() noexcept {
    std::destroy_at(_slots + _head);
    _head = _head + 1 == _capacity ? 0 : _head + 1;
    --_size;
  }
  void clear() noexcept {
    while (!empty()) drop_front();
  }

 private:
  void grow() {
    const std::size_t capacity = _capacity == 0 ? 16 : _capacity * 2;
    T* bigger = std::allocator<T>().allocate(capacity);
    for (std::size_t i = 0; i < _size; ++i) {
      T& old = _slots[(_head + i) % _capacity];
      std::construct_at(bigger + i, std::move(old));
      std::destroy_at(&old);
    }
    if (_slots) std::allocator<T>().deallocate(_slots, _capacity);
    _slots = bigger;
    _capacity = capacity;
    _head = 0;
  }
  T* _slots = nullptr;
  std::size_t _capacity = 0;
  std::size_t _head = 0;
  std::size_t _size = 0;
};

}  // namespace rill::runtime
