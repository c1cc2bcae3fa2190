// The registry client over HTTP, with its caches, and the in-memory registry.
#include <map>
#include <mutex>
#include <stdexcept>

#include <simdjson.h>

#include <rill/detail/json_text.hpp>
#include <rill/registry.hpp>

#include "http.hpp"

namespace rill::registry {

namespace {

std::string quote(std::string_view s) {
  std::string out;
  rill::detail::append_json_string(out, s);
  return out;
}

std::string schema_body(const schema& s) {
  std::string body = "{\"schema\":" + quote(s.text);
  if (s.type != "AVRO") body += ",\"schemaType\":" + quote(s.type);
  if (!s.references.empty()) {
    body += ",\"references\":[";
    for (std::size_t i = 0; i < s.references.size(); ++i) {
      const auto& r = s.references[i];
      body += (i ? "," : "") + std::string("{\"name\":") + quote(r.name) +
              ",\"subject\":" + quote(r.subject) + ",\"version\":" + std::to_string(r.version) +
              "}";
    }
    body += "]";
  }
  return body + "}";
}

std::string encode_path(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string cache_key(const std::string& subject, const schema& s) {
  std::string k = subject + '\0' + s.type + '\0' + s.text;
  for (const auto& r : s.references)
    k += '\0' + r.name + '\0' + r.subject + '\0' + std::to_string(r.version);
  return k;
}

// A parsed answer: the document, or the registry's error.
struct answer {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
};

std::string text_of(simdjson::dom::element e, const char* field) {
  std::string_view v;
  if (e[field].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

std::int64_t int_of(simdjson::dom::element e, const char* field) {
  std::int64_t v = 0;
  if (e[field].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

schema schema_of(simdjson::dom::element e) {
  schema s;
  s.text = text_of(e, "schema");
  if (auto t = text_of(e, "schemaType"); !t.empty()) s.type = t;
  simdjson::dom::array refs;
  if (e["references"].get(refs) == simdjson::SUCCESS) {
    for (auto r : refs)
      s.references.push_back(
          {text_of(r, "name"), text_of(r, "subject"), static_cast<int>(int_of(r, "version"))});
  }
  return s;
}

class http_client final : public client {
 public:
  explicit http_client(settings s)
      : _settings(std::move(s)), _transport(_settings.url, _settings.tls) {}

  int register_schema(const std::string& subject, const schema& s) override {
    const std::string key = cache_key(subject, s);
    if (auto id = cached_id(key)) return *id;
    auto a = call("POST", "/subjects/" + encode_path(subject) + "/versions", schema_body(s),
                  "register a schema under subject '" + subject + "'", nullptr);
    const int id = static_cast<int>(int_of(a->doc, "id"));
    remember(key, id, s);
    return id;
  }

  std::optional<registered_schema> lookup(const std::string& subject, const schema& s) override {
    const std::string key = cache_key(subject, s);
    {
      std::lock_guard lock(_mutex);
      if (auto it = _found.find(key); it != _found.end()) return it->second;
    }
    int missing = 0;
    std::unique_ptr<answer> a;
    try {
      a = call("POST", "/subjects/" + encode_path(subject), schema_body(s),
               "look up a schema under subject '" + subject + "'", &missing);
    } catch (const registry_error& e) {
      // Registered by this client, version unknown: while the registry is unreachable, the
      // id is what a serializer needs.
      if (auto id = cached_id(key); id && e.http_status() == 0)
        return registered_schema{subject, *id, 0, s};
      throw;
    }
    if (!a) return std::nullopt;
    registered_schema r{subject, static_cast<int>(int_of(a->doc, "id")),
                        static_cast<int>(int_of(a->doc, "version")), s};
    remember(key, r.id, s);
    std::lock_guard lock(_mutex);
    _found.emplace(key, r);
    return r;
  }

  schema by_id(int id) override {
    {
      std::lock_guard lock(_mutex);
      if (auto it = _by_id.find(id); it != _by_id.end()) return it->second;
    }
    auto a = call("GET", "/schemas/ids/" + std::to_string(id), "",
                  "fetch schema id " + std::to_string(id), nullptr);
    schema s = schema_of(a->doc);
    std::lock_guard lock(_mutex);
    return _by_id.emplace(id, std::move(s)).first->second;
  }

  registered_schema by_version(const std::string& subject, int version) override {
    const std::string v = version < 0 ? "latest" : std::to_string(version);
    const std::string key = subject + '\0' + v;
    try {
      auto a = call("GET", "/subjects/" + encode_path(subject) + "/versions/" + v, "",
                    "fetch version " + v + " of subject '" + subject + "'", nullptr);
      registered_schema r{subject, static_cast<int>(int_of(a->doc, "id")),
                          static_cast<int>(int_of(a->doc, "version")), schema_of(a->doc)};
      std::lock_guard lock(_mutex);
      _versions[key] = r;
      _by_id.emplace(r.id, r.schema);
      return r;
    } catch (const registry_error& e) {
      // "latest" can move, so it is asked every time; while the registry is unreachable
      // the last answer stands.
      std::lock_guard lock(_mutex);
      if (auto it = _versions.find(key); it != _versions.end() && e.http_status() == 0)
        return it->second;
      throw;
    }
  }

  bool is_compatible(const std::string& subject, const schema& s) override {
    auto a = call("POST", "/compatibility/subjects/" + encode_path(subject) + "/versions/latest",
                  schema_body(s), "check compatibility under subject '" + subject + "'", nullptr);
    bool ok = false;
    if (a->doc["is_compatible"].get(ok) != simdjson::SUCCESS) {
      throw registry_error("registry: check compatibility under subject '" + subject +
                               "': no is_compatible in the answer",
                           200, 0);
    }
    return ok;
  }

  const settings& config() const override { return _settings; }

 private:
  std::optional<int> cached_id(const std::string& key) {
    std::lock_guard lock(_mutex);
    if (auto it = _ids.find(key); it != _ids.end()) return it->second;
    return std::nullopt;
  }
  void remember(const std::string& key, int id, const schema& s) {
    std::lock_guard lock(_mutex);
    _ids[key] = id;
    _by_id.emplace(id, s);
  }

  // One request. `not_found` set: a 404 returns nullptr and stores the error code there.
  std::unique_ptr<answer> call(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& what, int* not_found) {
    detail::http_response r;
    try {
      r = _transport.exchange(method, target, body, _settings.basic_auth, _settings.timeout);
    } catch (const std::exception& e) {
      throw registry_error("registry: " + what + ": " + e.what(), 0, 0);
    }
    auto a = std::make_unique<answer>();
    const bool parsed = a->parser.parse(r.body).get(a->doc) == simdjson::SUCCESS;
    if (r.status == 404 && not_found != nullptr) {
      *not_found = parsed ? static_cast<int>(int_of(a->doc, "error_code")) : 404;
      return nullptr;
    }
    if (r.status / 100 != 2 || !parsed) {
      const int code = parsed ? static_cast<int>(int_of(a->doc, "error_code")) : 0;
      std::string message = parsed ? text_of(a->doc, "message") : r.body.substr(0, 200);
      throw registry_error("registry: " + what + ": HTTP " + std::to_string(r.status) +
                               (code ? " (error " + std::to_string(code) + ")" : "") + ": " +
                               (message.empty() ? "(no message)" : message),
                           r.status, code);
    }
    return a;
  }

  settings _settings;
  detail::transport _transport;
  std::mutex _mutex;
  std::map<std::string, int> _ids;                  // cache_key -> id
  std::map<std::string, registered_schema> _found;  // cache_key -> lookup's answer
  std::map<int, schema> _by_id;
  std::map<std::string, registered_schema> _versions;  // subject \0 version
};

class memory_client final : public client {
 public:
  explicit memory_client(settings s) : _settings(std::move(s)) {}

  int register_schema(const std::string& subject, const schema& s) override {
    std::lock_guard lock(_mutex);
    auto& versions = _subjects[subject];
    for (const auto& r : versions)
      if (r.schema == s) return r.id;
    int id = 0;
    for (const auto& [known, sch] : _by_id)
      if (sch == s) id = known;
    if (id == 0) {
      id = static_cast<int>(_by_id.size()) + 1;
      _by_id.emplace(id, s);
    }
    versions.push_back({subject, id, static_cast<int>(versions.size()) + 1, s});
    return id;
  }
  std::optional<registered_schema> lookup(const std::string& subject, const schema& s) override {
    std::lock_guard lock(_mutex);
    for (const auto& r : _subjects[subject])
      if (r.schema == s) return r;
    return std::nullopt;
  }
  schema by_id(int id) override {
    std::lock_guard lock(_mutex);
    if (auto it = _by_id.find(id); it != _by_id.end()) return it->second;
    throw registry_error("registry: fetch schema id " + std::to_string(id) +
                             ": HTTP 404 (error 40403): Schema " + std::to_string(id) +
                             " not found",
                         404, 40403);
  }
  registered_schema by_version(const std::string& subject, int version) override {
    std::lock_guard lock(_mutex);
    const auto& versions = _subjects[subject];
    if (versions.empty()) {
      throw registry_error("registry: fetch a version of subject '" + subject +
                               "': HTTP 404 (error 40401): Subject '" + subject + "' not found.",
                           404, 40401);
    }
    if (version < 0) return versions.back();
    if (version == 0 || version > static_cast<int>(versions.size())) {
      throw registry_error("registry: fetch version " + std::to_string(version) + " of subject '" +
                               subject + "': HTTP 404 (error 40402): Version not found.",
                           404, 40402);
    }
    return versions[version - 1];
  }
  bool is_compatible(const std::string&, const schema&) override { return true; }
  const settings& config() const override { return _settings; }

 private:
  settings _settings;
  std::mutex _mutex;
  std::map<std::string, std::vector<registered_schema>> _subjects;
  std::map<int, schema> _by_id;
};

}  // namespace

std::shared_ptr<client> connect(const settings& s) {
  return std::make_shared<http_client>(s);
}
std::shared_ptr<client> in_memory(const settings& s) {
  return std::make_shared<memory_client>(s);
}

}  // namespace rill::registry
