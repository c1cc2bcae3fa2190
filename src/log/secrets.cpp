#include "src/log/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace rill::log {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The values of every live secret_scope (a value twice if two scopes hold it).
struct registry {
  std::mutex mutex;
  std::vector<std::string> values;
};

registry& secrets() {
  static auto* r = new registry;  // never destroyed: threads may log during static destruction
  return *r;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  const std::string k = lower(key);
  const std::string_view v = k;
  for (std::string_view part : {"password", "secret", "private.key"}) {
    if (v.find(part) != std::string_view::npos) return true;
  }
  for (std::string_view whole : {"sasl.jaas.config", "basic.auth.user.info",
                                 "sasl.oauthbearer.config", "ssl.key.pem", "bearer.auth.token"}) {
    if (v == whole || v.ends_with("." + std::string(whole))) return true;
  }
  return false;
}

std::string shown(std::string_view key, std::string_view value) {
  return is_secret_key(key) ? std::string(redacted_text) : std::string(value);
}

std::string scrub(std::string text, const std::vector<std::string>& values) {
  for (const auto& secret : values) {
    if (secret.size() < 3) continue;
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + redacted_text.size())) {
      text.replace(at, secret.size(), redacted_text);
    }
  }
  return text;
}

std::vector<std::string> registered_secrets() {
  registry& r = secrets();
  std::lock_guard lock(r.mutex);
  return r.values;
}

secret_scope::secret_scope(std::vector<std::string> values) : _values(std::move(values)) {
  registry& r = secrets();
  std::lock_guard lock(r.mutex);
  r.values.insert(r.values.end(), _values.begin(), _values.end());
  // Longest first, so a secret that contains another is replaced whole.
  std::stable_sort(r.values.begin(), r.values.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

secret_scope::~secret_scope() {
  release();
}

secret_scope::secret_scope(secret_scope&& other) noexcept : _values(std::move(other._values)) {
  other._values.clear();
}

secret_scope& secret_scope::operator=(secret_scope&& other) noexcept {
  if (this != &other) {
    release();
    _values = std::move(other._values);
    other._values.clear();
  }
  return *this;
}

void secret_scope::release() {
  if (_values.empty()) return;
  registry& r = secrets();
  std::lock_guard lock(r.mutex);
  for (const auto& v : _values) {
    if (auto it = std::find(r.values.begin(), r.values.end(), v); it != r.values.end())
      r.values.erase(it);
  }
  _values.clear();
}

}  // namespace rill::log
