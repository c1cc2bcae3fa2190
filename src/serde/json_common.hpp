// What reading and writing JSON share (json_read.cpp, json_write.cpp): limits, the path to
// the value at hand for error messages, and the text of those messages. Private to rill_serde.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <rill/json.hpp>

namespace rill::detail::json {

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
inline std::string shorten(std::string_view s, std::size_t max = 40) {
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

inline std::string path_string(const path_node* p) {
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

inline std::string context_text(const type_info& root, const serde_context& ctx, bool reading) {
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

}  // namespace rill::detail::json
