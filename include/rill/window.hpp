// Windows: the specs a grouped stream is windowed by, the window of a windowed result, and
// the serdes of windowed keys in Kafka Streams' wire formats.
//
//   rill::tumbling_window(5min).grace(30s)    [start, start + size), aligned to the epoch
//   rill::hopping_window(10min, 1min)         size, advance: every window holding the record
//   rill::sliding_window(10s).grace(2s)       [t - difference, t] per record, both ends in
//   rill::session_window(30min).grace(1min)   activity separated by more than the gap
//
// No grace unless given (Kafka Streams 3.x's ofSizeWithNoGrace). A spec that cannot work
// (a size, gap or difference <= 0, an advance <= 0 or > size, a negative grace) throws
// rill::topology_error naming the window and the fix. docs/windows.md has the semantics.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <rill/bytes.hpp>
#include <rill/errors.hpp>
#include <rill/record.hpp>
#include <rill/serde.hpp>

namespace rill {

using std::chrono::milliseconds;

// A window's bounds in milliseconds since the epoch. Time windows include start and exclude
// end; sliding and session windows include both. `session` marks a session window, whose
// key the default serde writes in the session format.
struct window {
  timestamp_ms start = 0;
  timestamp_ms end = 0;
  bool session = false;
  bool operator==(const window& o) const noexcept { return start == o.start && end == o.end; }
  auto operator<=>(const window& o) const noexcept {
    if (auto c = start <=> o.start; c != 0) return c;
    return end <=> o.end;
  }
};

// A key of a windowed result: the record key and its window. Ordered by key, then start.
template <class K>
struct windowed {
  K key{};
  rill::window window;
  bool operator==(const windowed&) const = default;
  auto operator<=>(const windowed&) const = default;
};

namespace detail {

inline void check_positive(std::string_view window, std::string_view what, milliseconds d,
                           std::string_view fix) {
  if (d.count() <= 0) {
    throw topology_error(std::string(window) + ": the " + std::string(what) + " is " +
                         std::to_string(d.count()) + " ms; it must be positive (" +
                         std::string(fix) + ")");
  }
}

inline void check_grace(std::string_view window, milliseconds grace) {
  if (grace.count() < 0) {
    throw topology_error(std::string(window) + ": the grace is " + std::to_string(grace.count()) +
                         " ms; it must be 0 or more (.grace(d) with d >= 0, or leave it out)");
  }
}

}  // namespace detail

// Fixed-size windows that do not overlap: [k * size, (k + 1) * size).
class tumbling_window {
 public:
  explicit tumbling_window(milliseconds size) : _size(size) {
    detail::check_positive("tumbling_window", "size", size, "e.g. tumbling_window(5min)");
  }
  tumbling_window grace(milliseconds g) const {
    detail::check_grace("tumbling_window", g);
    tumbling_window w = *this;
    w._grace = g;
    return w;
  }
  milliseconds size() const noexcept { return _size; }
  milliseconds advance() const noexcept { return _size; }
  milliseconds grace_period() const noexcept { return _grace; }

 private:
  milliseconds _size;
  milliseconds _grace{0};
};

// Fixed-size windows every `advance`: [k * advance, k * advance + size); a record lands in
// every window that holds it (size / advance of them).
class hopping_window {
 public:
  hopping_window(milliseconds size, milliseconds advance) : _size(size), _advance(advance) {
    detail::check_positive("hopping_window", "size", size, "e.g. hopping_window(10min, 1min)");
    detail::check_positive("hopping_window", "advance", advance,
                           "e.g. hopping_window(10min, 1min)");
    if (advance > size) {
      throw topology_error("hopping_window: the advance (" + std::to_string(advance.count()) +
                           " ms) is larger than the size (" + std::to_string(size.count()) +
                           " ms), which would skip records; make it at most the size");
    }
  }
  hopping_window grace(milliseconds g) const {
    detail::check_grace("hopping_window", g);
    hopping_window w = *this;
    w._grace = g;
    return w;
  }
  milliseconds size() const noexcept { return _size; }
  milliseconds advance() const noexcept { return _advance; }
  milliseconds grace_period() const noexcept { return _grace; }

 private:
  milliseconds _size;
  milliseconds _advance;
  milliseconds _grace{0};
};

// Windows [t - difference, t] that slide with the records (KIP-450): one ending at each
// record, and one starting just after each record that later records fall into; never an
// empty or a duplicate window.
class sliding_window {
 public:
  explicit sliding_window(milliseconds max_difference) : _difference(max_difference) {
    detail::check_positive("sliding_window", "time difference", max_difference,
                           "e.g. sliding_window(10s)");
  }
  sliding_window grace(milliseconds g) const {
    detail::check_grace("sliding_window", g);
    sliding_window w = *this;
    w._grace = g;
    return w;
  }
  milliseconds time_difference() const noexcept { return _difference; }
  milliseconds grace_period() const noexcept { return _grace; }

 private:
  milliseconds _difference;
  milliseconds _grace{0};
};

// Sessions: a key's records with no gap longer than `inactivity_gap` between them; both ends
// included. A record that bridges sessions merges them.
class session_window {
 public:
  explicit session_window(milliseconds inactivity_gap) : _gap(inactivity_gap) {
    detail::check_positive("session_window", "inactivity gap", inactivity_gap,
                           "e.g. session_window(30min)");
  }
  session_window grace(milliseconds g) const {
    detail::check_grace("session_window", g);
    session_window w = *this;
    w._grace = g;
    return w;
  }
  milliseconds inactivity_gap() const noexcept { return _gap; }
  milliseconds grace_period() const noexcept { return _grace; }

 private:
  milliseconds _gap;
  milliseconds _grace{0};
};

namespace serdes {

namespace detail {
inline void put_be64(bytes& out, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i)
    out.push_back(std::byte(static_cast<std::uint8_t>(u >> (56 - 8 * i))));
}
inline std::int64_t get_be64(bytes_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
  return static_cast<std::int64_t>(v);
}
}  // namespace detail

// A windowed key as Kafka Streams writes it: for a time (tumbling, hopping, sliding) window
// the key's bytes and the start as 8 big-endian bytes (TimeWindowedSerializer); for a
// session window the key's bytes, the end, then the start (SessionWindowedSerializer).
//
// Writing follows window.session. Reading needs to know which: `session` says so, and a time
// window's end is start + `size` (milliseconds::max(): unknown, end = the largest time, as
// Kafka Streams' TimeWindowedDeserializer without a size). The default serde of windowed<K>
// reads time windows of unknown size; use time_windowed_serde / session_windowed_serde to
// read a topic you know.
template <serde S>
struct windowed_serde {
  using value_type = windowed<typename S::value_type>;
  S inner{};
  bool session = false;
  milliseconds size = milliseconds::max();

  void serialize(const value_type& v, bytes& out, const serde_context& ctx) const {
    inner.serialize(v.key, out, ctx);
    if (v.window.session) detail::put_be64(out, v.window.end);
    detail::put_be64(out, v.window.start);
  }
  value_type deserialize(bytes_view in, const serde_context& ctx) const {
    const std::size_t tail = session ? 16 : 8;
    if (in.size() < tail) {
      throw serde_error(std::string(session ? "session" : "time") + "-windowed key on topic '" +
                        std::string(ctx.topic) + "': " + std::to_string(in.size()) +
                        " bytes, fewer than the " + std::to_string(tail) + " the window takes");
    }
    value_type out;
    out.key = inner.deserialize(in.first(in.size() - tail), ctx);
    if (session) {
      out.window.end = detail::get_be64(in.subspan(in.size() - 16));
      out.window.start = detail::get_be64(in.subspan(in.size() - 8));
      out.window.session = true;
    } else {
      out.window.start = detail::get_be64(in.subspan(in.size() - 8));
      const auto max = std::numeric_limits<timestamp_ms>::max();
      out.window.end = size == milliseconds::max() || out.window.start > max - size.count()
                           ? max
                           : out.window.start + size.count();
    }
    return out;
  }
};

// Internal: a windowed key with its whole window (start, end, kind), for buffers that must
// give back exactly the key they were given.
template <serde S>
struct exact_windowed_serde {
  using value_type = windowed<typename S::value_type>;
  S inner{};
  void serialize(const value_type& v, bytes& out, const serde_context& ctx) const {
    inner.serialize(v.key, out, ctx);
    detail::put_be64(out, v.window.start);
    detail::put_be64(out, v.window.end);
    out.push_back(std::byte{v.window.session ? std::uint8_t{1} : std::uint8_t{0}});
  }
  value_type deserialize(bytes_view in, const serde_context& ctx) const {
    if (in.size() < 17)
      throw serde_error("windowed key in '" + std::string(ctx.topic) + "': too short");
    value_type out;
    out.key = inner.deserialize(in.first(in.size() - 17), ctx);
    out.window.start = detail::get_be64(in.subspan(in.size() - 17));
    out.window.end = detail::get_be64(in.subspan(in.size() - 9));
    out.window.session = in[in.size() - 1] == std::byte{1};
    return out;
  }
};

}  // namespace serdes

// Reads (and writes) keys of time windows of this size, as Kafka Streams'
// WindowedSerdes.timeWindowedSerdeFrom(K, size).
template <class K>
any_serde<windowed<K>> time_windowed_serde(milliseconds size,
                                           any_serde<K> key_serde = default_serde<K>()) {
  return serdes::windowed_serde<any_serde<K>>{std::move(key_serde), false, size};
}

// Reads (and writes) keys of session windows, as WindowedSerdes.sessionWindowedSerdeFrom(K).
template <class K>
any_serde<windowed<K>> session_windowed_serde(any_serde<K> key_serde = default_serde<K>()) {
  return serdes::windowed_serde<any_serde<K>>{std::move(key_serde), true, milliseconds::max()};
}

template <class K>
requires has_default_serde<K>
struct serde_traits<windowed<K>> {
  using type = serdes::windowed_serde<typename serde_traits<K>::type>;
};

}  // namespace rill
