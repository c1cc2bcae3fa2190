// The Avro schema of a reflected struct (see rill/avro.hpp for the mapping).
#include <set>

#include <simdjson.h>

#include "avro_codec.hpp"

namespace rill::registry::avro_detail {

namespace {

using rill::detail::json::kind;

// "shop::order" -> {"shop", "order"}; anything Avro names cannot hold becomes '_'.
std::pair<std::string, std::string> avro_name(const type_info& t) {
  std::string cpp = t.name();
  for (std::string_view anon : {"(anonymous namespace)::", "{anonymous}::"}) {
    for (auto p = cpp.find(anon); p != std::string::npos; p = cpp.find(anon))
      cpp.erase(p, anon.size());
  }
  std::string ns;
  std::string name;
  std::string part;
  int angle = 0;
  for (std::size_t i = 0; i < cpp.size(); ++i) {
    const char c = cpp[i];
    if (c == '<') ++angle;
    if (c == '>') --angle;
    if (angle == 0 && c == ':' && i + 1 < cpp.size() && cpp[i + 1] == ':') {
      ns += (ns.empty() ? "" : ".") + part;
      part.clear();
      ++i;
      continue;
    }
    part += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  name = part;
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "_" + name;
  return {ns, name};
}

std::string quote(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

class writer {
 public:
  std::string type(const type_info& t, const simdjson::dom::element* defaults) {
    switch (t.k) {
      case kind::boolean:
        return quote("boolean");
      case kind::int8:
      case kind::int16:
      case kind::int32:
      case kind::uint8:
      case kind::uint16:
        return quote("int");
      case kind::int64:
      case kind::uint32:
      case kind::uint64:
        return quote("long");
      case kind::float32:
        return quote("float");
      case kind::float64:
        return quote("double");
      case kind::string:
        return quote("string");
      case kind::bool_array:
        return R"({"type":"array","items":"boolean"})";
      case kind::array:
        return R"({"type":"array","items":)" + type(*t.element, nullptr) + "}";
      case kind::map:
        return R"({"type":"map","values":)" + type(*t.element, nullptr) + "}";
      case kind::optional:
        return "[\"null\"," + type(*t.element, nullptr) + "]";
      case kind::object:
        return record(t, defaults);
    }
    return {};
  }

  std::string zero(const type_info& t) {
    switch (t.k) {
      case kind::boolean:
        return "false";
      case kind::float32:
      case kind::float64:
        return "0.0";
      case kind::string:
        return "\"\"";
      case kind::array:
      case kind::bool_array:
        return "[]";
      case kind::map:
        return "{}";
      case kind::optional:
        return "null";
      case kind::object: {
        if (_zeroing.count(&t)) return "{}";  // a recursive record: never reached by a default
        _zeroing.insert(&t);
        std::string out = "{";
        for (std::size_t i = 0; i < t.field_count; ++i)
          out += (i ? "," : "") + quote(t.fields[i].name) + ":" + zero(*t.fields[i].type);
        _zeroing.erase(&t);
        return out + "}";
      }
      default:
        return "0";
    }
  }

  std::string full_name_of_root;

 private:
  std::string record(const type_info& t, const simdjson::dom::element* defaults) {
    auto [ns, name] = avro_name(t);
    if (_defined.empty() && !full_name_of_root.empty()) {  // the top record, named by the user
      const auto dot = full_name_of_root.rfind('.');
      ns = dot == std::string::npos ? "" : full_name_of_root.substr(0, dot);
      name = full_name_of_root.substr(dot == std::string::npos ? 0 : dot + 1);
    }
    const std::string full = ns.empty() ? name : ns + "." + name;
    if (full_name_of_root.empty()) full_name_of_root = full;
    if (!_defined.insert(&t).second) return quote(full);
    std::string out = R"({"type":"record","name":)" + quote(name);
    if (!ns.empty()) out += R"(,"namespace":)" + quote(ns);
    out += R"(,"fields":[)";
    for (std::size_t i = 0; i < t.field_count; ++i) {
      const auto& f = t.fields[i];
      simdjson::dom::element value;
      const bool has = defaults != nullptr && (*defaults)[f.name].get(value) == simdjson::SUCCESS;
      std::string def;
      if (f.type->k == kind::optional)
        def = "null";  // a union's default is of its first branch, "null"
      else if (has)
        def = simdjson::minify(value);
      else
        def = zero(*f.type);
      out += (i ? "," : "") + std::string(R"({"name":)") + quote(f.name) + R"(,"type":)" +
             type(*f.type, has ? &value : nullptr) + R"(,"default":)" + def + "}";
    }
    return out + "]}";
  }

  std::set<const type_info*> _defined;
  std::set<const type_info*> _zeroing;
};

}  // namespace

std::string schema_json(const type_info& t, std::string_view defaults_json,
                        std::string& full_name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(defaults_json);
  const bool ok = parser.parse(padded).get(doc) == simdjson::SUCCESS;
  writer w;
  w.full_name_of_root = full_name;
  std::string schema = w.type(t, ok ? &doc : nullptr);
  full_name = w.full_name_of_root;
  return schema;
}

schema_ptr parse_schema(std::string_view text) {
  avro_schema_t s = nullptr;
  if (avro_schema_from_json_length(text.data(), text.size(), &s) != 0 || s == nullptr)
    throw serde_error(std::string("not a valid Avro schema: ") + avro_strerror());
  return schema_ptr(s);
}

}  // namespace rill::registry::avro_detail
