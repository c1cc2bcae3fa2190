#include "src/http/range_merge.hpp"

#include <algorithm>
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
};

bool before(const entry& a, const entry& b) {
  return std::tie(a.kind, a.number, a.text, a.key_json) <
         std::tie(b.kind, b.number, b.text, b.key_json);
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
    if (last != nullptr && last->kind == e.kind && last->key_json == e.key_json) continue;
    if (last != nullptr) out.push_back(',');
    out += e.json;
    last = &e;
  }
  out.push_back(']');
  return out;
}

}  // namespace rill::http::detail
