// Writing JSON for rill::json_serde (include/rill/json.hpp): std::to_chars and a
// word-at-a-time escape loop, driven by the type tables the header builds.
//
// Threading: each thread keeps one output buffer, reused across records; one that grew over
// 1 MiB is freed afterwards.
#include <rill/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <rill/errors.hpp>

#include "src/serde/json_common.hpp"

namespace rill::detail::json {
namespace {

class text_buffer {
 public:
  // Room for n more bytes at the returned position; commit() says how many were used.
  char* reserve(std::size_t n) {
    if (_capacity - _size < n) grow(n);
    return _data.get() + _size;
  }
  void commit(char* end) { _size = static_cast<std::size_t>(end - _data.get()); }
  void put(char c) { *reserve(1) = c, ++_size; }
  void put(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(reserve(s.size()), s.data(), s.size());
    _size += s.size();
  }
  void clear() { _size = 0; }
  std::string_view view() const { return {_data.get(), _size}; }
  std::size_t capacity() const { return _capacity; }
  void release() {
    _data.reset();
    _size = _capacity = 0;
  }

 private:
  void grow(std::size_t n) {
    std::size_t cap = std::max({_size + n, 2 * _capacity, std::size_t{1024}});
    std::unique_ptr<char[]> data(new char[cap]);
    if (_size) std::memcpy(data.get(), _data.get(), _size);
    _data = std::move(data);
    _capacity = cap;
  }

  std::unique_ptr<char[]> _data;
  std::size_t _size = 0;
  std::size_t _capacity = 0;
};

thread_local text_buffer t_write;

// True if any of the 8 bytes is a control character, '"', '\\' or not ASCII.
inline bool needs_care(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t high = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x & high; };
  std::uint64_t control = (w - ones * 0x20) & ~w & high;
  return (control | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (w & high)) != 0;
}

// The length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0.
std::size_t utf8_length(const unsigned char* s, std::size_t n) {
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < n && s[i] >= lo && s[i] <= hi;
  };
  unsigned char c = s[0];
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no UTF-16 surrogates
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

class writer {
 public:
  writer(text_buffer& buf, const type_info& root, const serde_context& ctx)
      : _buf(buf), _root(root), _ctx(ctx) {}

  [[noreturn]] void fail(const path_node* at, std::string_view problem) const {
    throw serde_error(context_text(_root, _ctx, false) + ": at " + path_string(at) + ": " +
                      std::string(problem));
  }

  [[noreturn]] void too_deep(const path_node* at) const {
    fail(at, "nested deeper than " + std::to_string(k_max_depth) + " levels");
  }

  void write_string(std::string_view s, const path_node* at) {
    const auto* in = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    char* p = _buf.reserve(n + 2);
    *p++ = '"';
    std::size_t i = 0;
    while (i < n) {
      while (i + 8 <= n) {
        std::uint64_t w;
        std::memcpy(&w, in + i, 8);
        if (needs_care(w)) break;
        std::memcpy(p, in + i, 8);
        p += 8;
        i += 8;
      }
      if (i == n) break;
      unsigned char c = in[i];
      if (c >= 0x80) {
        std::size_t len = utf8_length(in + i, n - i);
        if (len == 0) {
          fail(at, "the string is not valid UTF-8 (byte " + std::to_string(i) + " of " +
                       std::to_string(n) + ")");
        }
        std::memcpy(p, in + i, len);
        p += len;
        i += len;
      } else if (c < 0x20 || c == '"' || c == '\\') {
        _buf.commit(p);
        p = _buf.reserve(6 + (n - i) + 1);  // this escape, the rest, the closing quote
        const char letter = c == '"'    ? '"'
                            : c == '\\' ? '\\'
                            : c == '\b' ? 'b'
                            : c == '\f' ? 'f'
                            : c == '\n' ? 'n'
                            : c == '\r' ? 'r'
                            : c == '\t' ? 't'
                                        : 'u';
        *p++ = '\\';
        *p++ = letter;
        if (letter == 'u') {
          const char* hex = "0123456789abcdef";
          *p++ = '0';
          *p++ = '0';
          *p++ = hex[c >> 4];
          *p++ = hex[c & 15];
        }
        ++i;
      } else {
        *p++ = static_cast<char>(c);
        ++i;
      }
    }
    *p++ = '"';
    _buf.commit(p);
  }

  // A field's ,"name": from json.hpp's table, which has 16 readable bytes past its end:
  // whole-block copies instead of a call to memcpy.
  void write_key(std::string_view key) {
    char* p = _buf.reserve(key.size() + 16);
    for (std::size_t i = 0; i < key.size(); i += 16) std::memcpy(p + i, key.data() + i, 16);
    _buf.commit(p + key.size());
  }

  template <class I>
  void write_integer(I v) {
    char* p = _buf.reserve(24);
    _buf.commit(std::to_chars(p, p + 24, v).ptr);
  }

  // Shortest text that reads back to the same value, with ".0" added to whole numbers so
  // that a reader sees a floating-point number.
  template <class F>
  void write_real(F v, const path_node* at) {
    if (!std::isfinite(v)) fail(at, "NaN and infinity have no JSON form");
    char* p = _buf.reserve(40);
    char* end = std::to_chars(p, p + 40, v).ptr;
    if (std::find_if(p, end, [](char c) { return c == '.' || c == 'e'; }) == end)
      *end++ = '.', *end++ = '0';
    _buf.commit(end);
  }

  void write_value(const type_info& t, const void* v, const path_node* at, std::size_t depth) {
    switch (t.k) {
      case kind::boolean:
        return _buf.put(*static_cast<const bool*>(v) ? "true" : "false");
      case kind::int8:
        return write_integer(*static_cast<const std::int8_t*>(v));
      case kind::int16:
        return write_integer(*static_cast<const std::int16_t*>(v));
      case kind::int32:
        return write_integer(*static_cast<const std::int32_t*>(v));
      case kind::int64:
        return write_integer(*static_cast<const std::int64_t*>(v));
      case kind::uint8:
        return write_integer(*static_cast<const std::uint8_t*>(v));
      case kind::uint16:
        return write_integer(*static_cast<const std::uint16_t*>(v));
      case kind::uint32:
        return write_integer(*static_cast<const std::uint32_t*>(v));
      case kind::uint64:
        return write_integer(*static_cast<const std::uint64_t*>(v));
      case kind::float32:
        return write_real(*static_cast<const float*>(v), at);
      case kind::float64:
        return write_real(*static_cast<const double*>(v), at);
      case kind::string:
        return write_string(*static_cast<const std::string*>(v), at);
      case kind::object:
        return write_object(t, v, at, depth + 1);
      case kind::array:
      case kind::bool_array:
        return write_array(t, v, at, depth);
      case kind::optional:
        if (t.size(v) == 0) return _buf.put("null");
        return write_value(*t.element, t.at(v, 0), at, depth);
      case kind::map:
        return write_map(t, v, at, depth);
    }
  }

  void write_array(const type_info& t, const void* v, const path_node* at, std::size_t depth) {
    if (depth + 1 > k_max_depth) too_deep(at);
    _buf.put('[');
    const std::size_t n = t.size(v);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) _buf.put(',');
      if (t.k == kind::bool_array) {
        _buf.put(t.bool_at(v, i) ? "true" : "false");
      } else {
        path_node here{at, {}, i, path_node::step::index};
        write_value(*t.element, t.at(v, i), &here, depth + 1);
      }
    }
    _buf.put(']');
  }

  void write_map(const type_info& t, const void* v, const path_node* at, std::size_t depth) {
    if (depth + 1 > k_max_depth) too_deep(at);
    struct entry_state {
      writer* self;
      const type_info* element;
      const path_node* at;
      std::size_t depth;
      bool first;
    } state{this, t.element, at, depth + 1, true};
    _buf.put('{');
    t.for_each(
        v,
        [](void* s, std::string_view key, const void* value) {
          auto& st = *static_cast<entry_state*>(s);
          path_node here{st.at, key, 0, path_node::step::key};
          if (!st.first) st.self->_buf.put(',');
          st.first = false;
          st.self->write_string(key, &here);
          st.self->_buf.put(':');
          st.self->write_value(*st.element, value, &here, st.depth);
        },
        &state);
    _buf.put('}');
  }

  void write_object(const type_info& t, const void* v, const path_node* at, std::size_t depth) {
    if (depth > k_max_depth) too_deep(at);
    _buf.put('{');
    for (std::size_t i = 0; i < t.field_count; ++i) {
      const field_info& f = t.fields[i];
      write_key(i == 0 ? f.key.substr(1) : f.key);
      path_node here{at, f.name, 0, path_node::step::field};
      write_value(*f.type, f.get(const_cast<void*>(v)), &here, depth);
    }
    _buf.put('}');
  }

 private:
  text_buffer& _buf;
  const type_info& _root;
  const serde_context& _ctx;
};

}  // namespace

void write(const type_info& t, const void* v, bytes& out, const serde_context& ctx) {
  text_buffer& b = t_write;
  b.clear();
  writer w(b, t, ctx);
  w.write_object(t, v, nullptr, 1);
  append(out, as_bytes(b.view()));
  if (b.capacity() > k_keep_bytes) b.release();
}

}  // namespace rill::detail::json
