// The JSON core behind rill::json_serde (include/rill/json.hpp): simdjson On-Demand for
// reading, std::to_chars and a word-at-a-time escape loop for writing, both driven by the
// constant type tables the header builds from the Hana accessors. Compiled once, so user
// code that includes json.hpp does not pay for simdjson.h.
//
// Threading: each thread keeps one simdjson parser, one padded input buffer and one output
// buffer, reused across records; records over 1 MiB get their own, freed afterwards.
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

#include <simdjson.h>

#include <rill/errors.hpp>

namespace rill::detail::json {
namespace {

namespace od = simdjson::ondemand;

// Objects and arrays nested deeper are refused, in ignored fields too: reading recurses.
constexpr std::size_t k_max_depth = 256;
// Buffers above this size are not kept for the next record.
constexpr std::size_t k_keep_bytes = std::size_t{1} << 20;

// One step of the path to the value being read or written, kept on the stack and turned
// into text (`items[1].qty`) only for an error message.
struct path_node {
  enum class step : unsigned char { field, key, index };
  const path_node* parent;
  std::string_view name;  // field or map key
  std::size_t index;
  step how;
};

// At most `max` bytes of s for a message, cut at a character boundary, with control
// characters shown as '?'.
std::string shorten(std::string_view s, std::size_t max = 40) {
  std::string out;
  if (s.size() > max) {
    while (max > 0 && (static_cast<unsigned char>(s[max]) & 0xC0) == 0x80) --max;
    out.assign(s.substr(0, max));
    out += "...";
  } else {
    out.assign(s);
  }
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return out;
}

std::string path_string(const path_node* p) {
  if (!p) return "the top level";
  std::vector<const path_node*> steps;
  for (; p; p = p->parent) steps.push_back(p);
  std::string s;
  const std::size_t n = steps.size();
  bool after_gap = false;
  for (std::size_t i = 0; i < n; ++i) {
    // A very deep path keeps its first 4 and last 8 steps.
    if (n > 16 && i == 4) {
      s += "...(" + std::to_string(n - 12) + " more)...";
      i = n - 9;
      after_gap = true;
      continue;
    }
    const path_node& step = *steps[n - 1 - i];
    switch (step.how) {
      case path_node::step::field:
        if (!s.empty() && !after_gap) s += '.';
        s += step.name;
        break;
      case path_node::step::key:
        s += "[\"" + shorten(step.name) + "\"]";
        break;
      case path_node::step::index:
        s += '[' + std::to_string(step.index) + ']';
        break;
    }
    after_gap = false;
  }
  return s;
}

std::string context_text(const type_info& root, const serde_context& ctx, bool reading) {
  std::string s = "rill::json_serde<" + root.name() + ">: cannot ";
  s += reading ? "read a " : "write a ";
  s += ctx.is_key ? "key" : "value";
  s += reading ? " from topic '" : " to topic '";
  s += ctx.topic;
  s += "'";
  return s;
}

template <class I>
std::string integer_range() {
  return "an integer from " + std::to_string(std::numeric_limits<I>::min()) + " to " +
         std::to_string(std::numeric_limits<I>::max());
}

// ---- reading -----------------------------------------------------------------------------

// Whether the key as it stands in the JSON text (`raw` is just past its opening quote) is
// `name`. Names have no quotes or backslashes, so a match is exact, and a mismatch stops
// at the key's closing quote at the latest.
inline bool raw_key_is(const char* raw, std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i)
    if (raw[i] != name[i]) return false;
  return raw[name.size()] == '"';
}

// Whether the raw key has escapes, so that only its unescaped form can be compared.
inline bool raw_key_has_escape(const char* raw) {
  for (;; ++raw) {
    if (*raw == '\\') return true;
    if (*raw == '"') return false;
  }
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// RFC 8259's number grammar, for values that are skipped rather than converted (so that a
// number too big for a double is still accepted there).
bool is_json_number(std::string_view s) {
  auto digit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0')
    ++i;
  else if (digit(i))
    while (digit(i)) ++i;
  else
    return false;
  if (i < s.size() && s[i] == '.') {
    if (!digit(++i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

// A parser and a padded copy of the input: Kafka's bytes have no room for simdjson's
// SIMDJSON_PADDING behind them.
struct read_buffers {
  od::parser parser;
  std::unique_ptr<char[]> text;
  std::size_t capacity = 0;
  bool busy = false;

  const char* assign(bytes_view in) {
    std::size_t need = in.size() + simdjson::SIMDJSON_PADDING;
    if (capacity < need) {
      std::size_t grown = std::max(need, std::min(2 * capacity, k_keep_bytes));
      text.reset(new char[grown]);
      capacity = grown;
    }
    if (!in.empty()) std::memcpy(text.get(), in.data(), in.size());
    std::memset(text.get() + in.size(), 0, simdjson::SIMDJSON_PADDING);
    return text.get();
  }
};

// One record's reading: walks the On-Demand document along the type table, filling the
// struct in place. Each value is visited once, in document order.
class reader {
 public:
  reader(const type_info& root, const serde_context& ctx, const char* text, std::size_t size)
      : _root(root), _ctx(ctx), _text(text), _size(size) {}

  void set_document(od::document* doc) { _doc = doc; }

  [[noreturn]] void fail(const path_node* at, std::string_view problem) const {
    throw serde_error(context_text(_root, _ctx, true) + ": at " + path_string(at) + ": " +
                      std::string(problem));
  }

  [[noreturn]] void malformed(const path_node* at, simdjson::error_code e) const {
    std::string problem = "malformed JSON";
    const char* where = nullptr;
    if (_doc && !_doc->current_location().get(where) && where > _text && where <= _text + _size)
      problem += " near byte " + std::to_string(where - _text);
    problem += " (";
    // simdjson says "ended early" also when text follows the closing brace.
    problem += e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT
                   ? "the top-level object is not closed, or text follows it"
                   : simdjson::error_message(e);
    problem += ")";
    fail(at, problem);
  }

  // A typed read failed with e: the value is of another kind or out of range (say what was
  // expected and what was found), or the text is broken.
  [[noreturn]] void mismatch(od::value& v, simdjson::error_code e, const path_node* at,
                             std::string_view expected) const {
    switch (e) {
      case simdjson::SUCCESS:  // read, but out of range for the member
      case simdjson::INCORRECT_TYPE:
      case simdjson::NUMBER_ERROR:
      case simdjson::NUMBER_OUT_OF_RANGE:
      case simdjson::T_ATOM_ERROR:
      case simdjson::F_ATOM_ERROR:
      case simdjson::N_ATOM_ERROR:
        break;
      default:
        malformed(at, e);
    }
    od::json_type type = od::json_type::null;
    if (v.type().get(type)) type = od::json_type::null;  // broken text: scalar() says so
    const char* container = type == od::json_type::array    ? "an array"
                            : type == od::json_type::object ? "an object"
                            : type == od::json_type::string ? "a string"
                                                            : nullptr;
    fail(at, "expected " + std::string(expected) + ", found " +
                 (container ? std::string(container) : scalar(v, at)));
  }

  // The text of a number, true, false or null; malformed JSON if it is none of them.
  std::string scalar(od::value& v, const path_node* at) const {
    std::string_view token = trim_right(v.raw_json_token());
    if (token != "true" && token != "false" && token != "null" && !is_json_number(token))
      fail(at, "malformed JSON: " + shorten(token) + " is not a value");
    return shorten(token);
  }

  template <class I>
  void read_integer(od::value& v, void* out, const path_node* at) const {
    simdjson::error_code e;
    if constexpr (std::is_signed_v<I>) {
      std::int64_t x = 0;
      e = v.get_int64().get(x);
      if (!e && x >= std::numeric_limits<I>::min() && x <= std::numeric_limits<I>::max()) {
        *static_cast<I*>(out) = static_cast<I>(x);
        return;
      }
    } else {
      std::uint64_t x = 0;
      e = v.get_uint64().get(x);
      if (!e && x <= std::numeric_limits<I>::max()) {
        *static_cast<I*>(out) = static_cast<I>(x);
        return;
      }
    }
    mismatch(v, e, at, integer_range<I>());
  }

  double read_double(od::value& v, const path_node* at, const char* type) const {
    double d = 0;
    auto e = v.get_double().get(d);
    if (!e) return d;
    od::json_type t;
    if (!v.type().get(t) && t == od::json_type::number)
      mismatch(v, e, at, std::string("a number that fits a ") + type);
    mismatch(v, e, at, "a number");
  }

  void read_value(od::value& v, const type_info& t, void* out, const path_node* at,
                  std::size_t depth) {
    switch (t.k) {
      case kind::boolean: {
        bool b = false;
        if (auto e = v.get_bool().get(b)) mismatch(v, e, at, "true or false");
        *static_cast<bool*>(out) = b;
        return;
      }
      case kind::int8:
        return read_integer<std::int8_t>(v, out, at);
      case kind::int16:
        return read_integer<std::int16_t>(v, out, at);
      case kind::int32:
        return read_integer<std::int32_t>(v, out, at);
      case kind::int64:
        return read_integer<std::int64_t>(v, out, at);
      case kind::uint8:
        return read_integer<std::uint8_t>(v, out, at);
      case kind::uint16:
        return read_integer<std::uint16_t>(v, out, at);
      case kind::uint32:
        return read_integer<std::uint32_t>(v, out, at);
      case kind::uint64:
        return read_integer<std::uint64_t>(v, out, at);
      case kind::float64: {
        *static_cast<double*>(out) = read_double(v, at, "double");
        return;
      }
      case kind::float32: {
        // Decimal to float directly: through double could round twice.
        std::string_view token = trim_right(v.raw_json_token());
        double d = read_double(v, at, "float");
        float f = 0;
        auto r = std::from_chars(token.data(), token.data() + token.size(), f);
        if (r.ec != std::errc{}) {
          if (std::fabs(d) > 1)
            fail(at, "expected a number that fits a float, found " + shorten(token));
          f = static_cast<float>(d);  // too small for a float: 0 or the nearest subnormal
        }
        *static_cast<float*>(out) = f;
        return;
      }
      case kind::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) mismatch(v, e, at, "a string");
        static_cast<std::string*>(out)->assign(s.data(), s.size());
        return;
      }
      case kind::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) mismatch(v, e, at, "an object");
        return read_object(obj, t, out, at, depth + 1);
      }
      case kind::array:
      case kind::bool_array: {
        od::array arr;
        if (auto e = v.get_array().get(arr)) mismatch(v, e, at, "an array");
        if (depth + 1 > k_max_depth) too_deep(at);
        t.clear(out);
        std::size_t i = 0;
        for (auto&& result : arr) {
          path_node here{at, {}, i++, path_node::step::index};
          if (result.error()) malformed(&here, result.error());
          od::value& ev = result.value_unsafe();
          if (t.k == kind::array) {
            read_value(ev, *t.element, t.emplace(out), &here, depth + 1);
          } else {
            bool b = false;
            if (auto e = ev.get_bool().get(b)) mismatch(ev, e, &here, "true or false");
            t.push_bool(out, b);
          }
        }
        return;
      }
      case kind::optional: {
        bool null = false;
        if (auto e = v.is_null().get(null)) malformed(at, e);
        if (null)
          t.clear(out);
        else
          read_value(v, *t.element, t.emplace(out), at, depth);
        return;
      }
      case kind::map: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) mismatch(v, e, at, "an object");
        if (depth + 1 > k_max_depth) too_deep(at);
        t.clear(out);
        for (auto&& result : obj) {
          if (result.error()) malformed(at, result.error());
          od::field& field = result.value_unsafe();
          std::string_view key;
          if (auto e = field.unescaped_key().get(key)) malformed(at, e);
          path_node here{at, key, 0, path_node::step::key};
          read_value(field.value(), *t.element, t.emplace_key(out, key), &here, depth + 1);
        }
        return;
      }
    }
  }

  void read_object(od::object& obj, const type_info& t, void* out, const path_node* at,
                   std::size_t depth) {
    if (depth > k_max_depth) too_deep(at);
    const field_info* fields = t.fields;
    const std::size_t n = t.field_count;
    std::size_t next = 0;
    // Works on the iterator's own field and value: copying simdjson's small structs
    // stalls store forwarding and cost a third of the time.
    for (auto&& result : obj) {
      if (result.error()) malformed(at, result.error());
      od::field& field = result.value_unsafe();
      // Compared as written, skipping the unescaping copy; fields usually come in
      // declaration order, so the one after the last match is tried first.
      const char* raw = field.key().raw();
      const field_info* match = nullptr;
      std::string_view key;
      if (next < n && raw_key_is(raw, fields[next].name)) {
        match = &fields[next];
      } else {
        for (std::size_t i = 0; i < n && !match; ++i)
          if (raw_key_is(raw, fields[i].name)) match = &fields[i];
        if (!match) {
          if (auto e = field.unescaped_key().get(key)) malformed(at, e);
          if (raw_key_has_escape(raw)) {
            for (std::size_t i = 0; i < n && !match; ++i)
              if (fields[i].name == key) match = &fields[i];
          }
        }
      }
      if (!match) {  // not ours: checked, not converted
        path_node here{at, key, 0, path_node::step::field};
        skip_value(field.value(), &here, depth);
        continue;
      }
      next = static_cast<std::size_t>(match - fields) + 1;
      path_node here{at, match->name, 0, path_node::step::field};
      read_value(field.value(), *match->type, match->get(out), &here, depth);
    }
  }

  // Checks a value the struct has no field for. On-Demand would skip it unread, so broken
  // text there (a bad atom, a missing colon) would pass unnoticed.
  void skip_value(od::value& v, const path_node* at, std::size_t depth) {
    od::json_type type;
    if (auto e = v.type().get(type)) malformed(at, e);
    switch (type) {
      case od::json_type::array: {
        od::array arr;
        if (auto e = v.get_array().get(arr)) malformed(at, e);
        if (depth + 1 > k_max_depth) too_deep(at);
        std::size_t i = 0;
        for (auto&& result : arr) {
          path_node here{at, {}, i++, path_node::step::index};
          if (result.error()) malformed(&here, result.error());
          skip_value(result.value_unsafe(), &here, depth + 1);
        }
        return;
      }
      case od::json_type::object: {
        od::object obj;
        if (auto e = v.get_object().get(obj)) malformed(at, e);
        if (depth + 1 > k_max_depth) too_deep(at);
        for (auto&& result : obj) {
          if (result.error()) malformed(at, result.error());
          od::field& field = result.value_unsafe();
          std::string_view key;
          if (auto e = field.unescaped_key().get(key)) malformed(at, e);
          path_node here{at, key, 0, path_node::step::field};
          skip_value(field.value(), &here, depth + 1);
        }
        return;
      }
      case od::json_type::number:
        if (!is_json_number(trim_right(v.raw_json_token()))) not_a_value(v, at);
        return;
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) malformed(at, e);
        return;
      }
      case od::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) not_a_value(v, at);
        return;
      }
      case od::json_type::null: {
        bool null = false;
        if (v.is_null().get(null) || !null) not_a_value(v, at);
        return;
      }
    }
  }

  [[noreturn]] void not_a_value(od::value& v, const path_node* at) const {
    scalar(v, at);
    malformed(at, simdjson::INCORRECT_TYPE);  // not reached: scalar() found it broken
  }

  [[noreturn]] void too_deep(const path_node* at) const {
    fail(at, "nested deeper than " + std::to_string(k_max_depth) + " levels");
  }

  void read_document(od::document& doc, const type_info& t, void* out) {
    od::object obj;
    if (auto e = doc.get_object().get(obj)) {
      if (e != simdjson::INCORRECT_TYPE) malformed(nullptr, e);
      od::json_type type = od::json_type::null;
      if (!doc.type().get(type) && type == od::json_type::array)
        fail(nullptr, "expected a JSON object, found an array");
      if (!doc.type().get(type) && type == od::json_type::string)
        fail(nullptr, "expected a JSON object, found a string");
      // A scalar, or not JSON at all: show how the input starts.
      std::string_view text(_text, _size);
      text.remove_prefix(std::min(text.find_first_not_of(" \t\r\n"), text.size()));
      fail(nullptr, "expected a JSON object, found " + shorten(trim_right(text)));
    }
    read_object(obj, t, out, nullptr, 1);
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS)
      fail(nullptr, "malformed JSON: more text after the top-level object");
  }

 private:
  const type_info& _root;
  const serde_context& _ctx;
  const char* _text;
  std::size_t _size;
  od::document* _doc = nullptr;
};

thread_local read_buffers t_read;

// ---- writing -----------------------------------------------------------------------------

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

void read(const type_info& t, void* out, bytes_view in, const serde_context& ctx) {
  // A record too big to keep buffers for, or a nested call (a default constructor that
  // reads JSON): use buffers of this call's own.
  std::optional<read_buffers> own;
  read_buffers& b = (in.size() > k_keep_bytes || t_read.busy) ? own.emplace() : t_read;
  struct busy_guard {
    read_buffers& b;
    explicit busy_guard(read_buffers& buffers) : b(buffers) { b.busy = true; }
    ~busy_guard() { b.busy = false; }
  } guard(b);

  const char* text = b.assign(in);
  reader r(t, ctx, text, in.size());
  od::document doc;
  if (auto e = b.parser.iterate(text, in.size(), b.capacity).get(doc)) {
    if (e == simdjson::EMPTY) r.fail(nullptr, "empty input, expected a JSON object");
    r.malformed(nullptr, e);
  }
  r.set_document(&doc);
  r.read_document(doc, t, out);
}

void write(const type_info& t, const void* v, bytes& out, const serde_context& ctx) {
  text_buffer& b = t_write;
  b.clear();
  writer w(b, t, ctx);
  w.write_object(t, v, nullptr, 1);
  append(out, as_bytes(b.view()));
  if (b.capacity() > k_keep_bytes) b.release();
}

}  // namespace rill::detail::json
