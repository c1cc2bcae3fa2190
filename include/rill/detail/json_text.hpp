// Store contents as JSON text, for the HTTP endpoint (docs/queries.md): keys arrive as text in
// a URL and values leave as JSON. A type's natural JSON form when it has one (numbers, bool,
// strings); bytes as base64 strings; anything else through its serde — the serde's bytes as
// they are when they are JSON (the JSON serde's), else as base64.
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <rill/bytes.hpp>
#include <rill/detail/type_name.hpp>
#include <rill/serde.hpp>

namespace rill::detail {

// A JSON string literal of `s` (quotes included; control characters escaped).
inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

inline std::string base64(bytes_view b) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < b.size(); i += 3) {
    const std::uint32_t n = (std::to_integer<std::uint32_t>(b[i]) << 16) |
                            (i + 1 < b.size() ? std::to_integer<std::uint32_t>(b[i + 1]) << 8 : 0) |
                            (i + 2 < b.size() ? std::to_integer<std::uint32_t>(b[i + 2]) : 0);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < b.size() ? table[(n >> 6) & 63] : '=';
    out += i + 2 < b.size() ? table[n & 63] : '=';
  }
  return out;
}

inline std::optional<bytes> from_base64(std::string_view s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::byte(static_cast<std::uint8_t>(acc >> bits)));
    }
  }
  return out;
}

// Whether `s` is one JSON value (RFC 8259), nested at most 64 deep.
class json_check {
 public:
  static bool valid(std::string_view s) {
    json_check c{s};
    c.space();
    if (!c.value(0)) return false;
    c.space();
    return c._at == s.size();
  }

 private:
  explicit json_check(std::string_view s) : _s(s) {}
  bool more() const { return _at < _s.size(); }
  char peek() const { return more() ? _s[_at] : '\0'; }
  void space() {
    while (more() && (peek() == ' ' || peek() == '\n' || peek() == '\r' || peek() == '\t')) ++_at;
  }
  bool literal(std::string_view word) {
    if (_s.substr(_at, word.size()) != word) return false;
    _at += word.size();
    return true;
  }
  bool string() {
    ++_at;  // the opening quote
    while (more()) {
      const auto c = static_cast<unsigned char>(_s[_at++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!more()) return false;
        const char e = _s[_at++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i, ++_at)
            if (!more() || !std::isxdigit(static_cast<unsigned char>(_s[_at]))) return false;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = _at;
    if (peek() == '-') ++_at;
    if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
    if (peek() == '0')
      ++_at;
    else
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_at;
    if (peek() == '.') {
      ++_at;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_at;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++_at;
      if (peek() == '+' || peek() == '-') ++_at;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_at;
    }
    return _at > start;
  }
  bool items(int depth, char close, bool keyed) {
    ++_at;
    space();
    if (peek() == close) return ++_at, true;
    for (;;) {
      space();
      if (keyed) {
        if (peek() != '"' || !string()) return false;
        space();
        if (peek() != ':') return false;
        ++_at;
        space();
      }
      if (!value(depth + 1)) return false;
      space();
      if (peek() == close) return ++_at, true;
      if (peek() != ',') return false;
      ++_at;
    }
  }
  bool value(int depth) {
    if (depth > 64) return false;
    switch (peek()) {
      case '{':
        return items(depth, '}', true);
      case '[':
        return items(depth, ']', false);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  std::string_view _s;
  std::size_t _at = 0;
};

template <class T>
constexpr bool json_number_v =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

// `v` as JSON, appended to `out`.
template <class T>
void append_json(std::string& out, const T& v, const any_serde<T>& serde, std::string_view topic) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (json_number_v<T>) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, ec == std::errc() ? end : buf);
  } else if constexpr (std::is_same_v<T, std::string>) {
    append_json_string(out, v);
  } else if constexpr (std::is_same_v<T, bytes>) {
    append_json_string(out, base64(v));
  } else {
    bytes b;
    serde.encode(v, b, serde_context{topic, false, nullptr});
    if (json_check::valid(as_chars(b)))
      out += as_chars(b);
    else
      append_json_string(out, base64(b));
  }
}

// A key of type K from its text in a URL (numbers in decimal, bytes in base64, strings as
// they are, anything else as its serde reads it: JSON for the JSON serde). Throws
// std::invalid_argument naming the problem.
template <class K>
K key_from_text(std::string_view text, const any_serde<K>& serde, std::string_view store) {
  auto fail = [&](const std::string& why) -> std::invalid_argument {
    return std::invalid_argument("key '" + std::string(text.substr(0, 80)) + "' of store '" +
                                 std::string(store) + "' is not a " + type_name<K>() + ": " + why);
  };
  if constexpr (std::is_same_v<K, std::string>) {
    return std::string(text);
  } else if constexpr (std::is_same_v<K, bool>) {
    if (text == "true") return true;
    if (text == "false") return false;
    throw fail("give true or false");
  } else if constexpr (json_number_v<K>) {
    K v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) throw fail("not a number in range");
    return v;
  } else if constexpr (std::is_same_v<K, bytes>) {
    auto b = from_base64(text);
    if (!b) throw fail("not base64");
    return *b;
  } else {
    try {
      bytes_view b = as_bytes(text);
      return serde.decode(&b, serde_context{store, true, nullptr});
    } catch (const std::exception& e) {
      throw fail(e.what());
    }
  }
}

// What the HTTP endpoint asks of a store: keys as text, answers as JSON. Entries come with
// their serialized key, the order every task's store keeps, for merging across tasks.
// Questions a store cannot answer (a key-value store asked for windows) throw
// std::invalid_argument naming the store and what it can answer.
class json_reader {
 public:
  using entries = std::vector<std::pair<bytes, std::string>>;
  virtual ~json_reader() = default;
  // The key as the store serializes it (for finding its partition).
  virtual bytes key_bytes(std::string_view key) = 0;
  // A key-value store's value of `key`; a session store's sessions of it, as an array.
  virtual std::optional<std::string> get_json(std::string_view key) = 0;
  // Every entry with from <= key <= to (serialized order; a bound may be missing):
  // {"key":..,"value":..}, with "start" and "end" for windows and sessions.
  virtual void range_json(std::optional<std::string_view> from, std::optional<std::string_view> to,
                          entries& out) = 0;
  // The windows (sessions) of `key` with start (end) in [from, to].
  virtual void windows_json(std::string_view key, std::int64_t from, std::int64_t to,
                            entries& out) = 0;
};

// {"key":K,"value":V} (plus "start" and "end" when `window` is given).
template <class K, class V>
std::string json_entry(const K& key, const V& value, const any_serde<K>& ks, const any_serde<V>& vs,
                       std::string_view topic,
                       std::optional<std::pair<std::int64_t, std::int64_t>> window = {}) {
  std::string out = "{\"key\":";
  append_json(out, key, ks, topic);
  if (window) {
    out += ",\"start\":" + std::to_string(window->first);
    out += ",\"end\":" + std::to_string(window->second);
  }
  out += ",\"value\":";
  append_json(out, value, vs, topic);
  out += '}';
  return out;
}

// Whether serialized key `k` lies in [from, to] (missing bounds: open).
inline bool within(bytes_view k, const std::optional<bytes>& from, const std::optional<bytes>& to) {
  const std::string_view s = as_chars(k);
  return (!from || s >= as_chars(*from)) && (!to || s <= as_chars(*to));
}

}  // namespace rill::detail
