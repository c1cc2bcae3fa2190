// Reading JSON for rill::json_serde (include/rill/json.hpp): simdjson On-Demand, driven by
// the constant type tables the header builds from the Hana accessors. Compiled once, so user
// code that includes json.hpp does not pay for simdjson.h.
//
// Threading: each thread keeps one simdjson parser and one padded input buffer, reused
// across records; records over 1 MiB get their own, freed afterwards.
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

#include "src/serde/json_common.hpp"

namespace rill::detail::json {
namespace {

namespace od = simdjson::ondemand;

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

}  // namespace rill::detail::json
