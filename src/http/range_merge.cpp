#include "src/http/range_merge.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <tuple>

#include <simdjson.h>

namespace rill::http::detail {

namespace {

struct entry {
  int kind;  // 0 number, 1 string, 2 other
  double number;
  std::string text;  // the string's bytes, or the key's JSON text
  std::string key_json;
  std::string json;  // the whole entry, minified
  // A window or session store's entry: its window, part of what the entry is (one key has
  // many windows). Unset for key-value stores.
  std::int64_t start = std::numeric_limits<std::int64_t>::min();
  std::int64_t end = std::numeric_limits<std::int64_t>::min();
};

auto identity(const entry& e) {
  return std::tie(e.kind, e.number, e.text, e.key_json, e.start, e.end);
}

bool before(const entry& a, const entry& b) {
  return identity(a) < identity(b);
}

// The entries of one part, or an error message.
std::string read_part(simdjson::dom::parser& parser, const std::string& json,
                      std::vector<entry>& out) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(json).get(doc)) return std::string("not JSON: ") + error_message(err);
  simdjson::dom::array entries;
  if (doc["entries"].get_array().get(entries)) return "no \"entries\" array in its answer";
  for (auto e : entries) {
    simdjson::dom::element key;
    if (e["key"].get(key)) return "an entry without a \"key\": " + simdjson::minify(e);
    entry x{2, 0.0, {}, simdjson::minify(key), simdjson::minify(e)};
    if (key.is_number()) {
      x.kind = 0;
      x.number = key.get_double().value_unsafe();
    } else if (key.is_string()) {
      x.kind = 1;
      x.text = std::string(key.get_string().value_unsafe());
    } else {
      x.text = x.key_json;
    }
    std::int64_t t = 0;
    if (!e["start"].get_int64().get(t)) x.start = t;
    if (!e["end"].get_int64().get(t)) x.end = t;
    out.push_back(std::move(x));
  }
  return {};
}

}  // namespace

std::string merge_ranges(const std::vector<range_part>& parts,
                         std::vector<std::pair<std::string, std::string>>& bad) {
  simdjson::dom::parser parser;
  std::vector<entry> all;
  for (const auto& p : parts) {
    std::vector<entry> mine;
    auto err = read_part(parser, p.json, mine);
    if (!err.empty()) {
      bad.emplace_back(p.instance, err);
      continue;
    }
    for (auto& e : mine) all.push_back(std::move(e));
  }
  std::stable_sort(all.begin(), all.end(), before);
  std::string out = "[";
  const entry* last = nullptr;
  for (const auto& e : all) {
    if (last != nullptr && identity(*last) == identity(e)) continue;
    if (last != nullptr) out.push_back(',');
    out += e.json;
    last = &e;
  }
  out.push_back(']');
  return out;
}

}  // namespace rill::http::detail
