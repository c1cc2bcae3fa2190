// Secrets in settings: which keys hold them, and keeping their values out of logs and
// error messages.
//
// A key is secret when, lower-cased, it contains `password` (sasl.password, ssl.key.password,
// ssl.keystore.password, ...), `secret` (sasl.oauthbearer.client.secret) or `private.key`, or
// ends in a credential's name: sasl.jaas.config, basic.auth.user.info, sasl.oauthbearer.config,
// ssl.key.pem, bearer.auth.token. Prefixes (`consumer.`, ...) do not matter.
//
// Two defences: messages that name a setting show `[redacted]` for a secret's value
// (shown()), and while a secret_scope lives every log line is scrubbed of its values,
// whoever wrote them (librdkafka's own lines included). Thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rill::log {

inline constexpr std::string_view redacted_text = "[redacted]";

bool is_secret_key(std::string_view key);
// `value`, or [redacted] when `key` is secret.
std::string shown(std::string_view key, std::string_view value);
// The values of the secret keys among `settings`.
template <class Map>
std::vector<std::string> secret_values(const Map& settings) {
  std::vector<std::string> out;
  for (const auto& [k, v] : settings) {
    if (is_secret_key(k) && !v.empty()) out.push_back(v);
  }
  return out;
}
// `text` with every occurrence of each of `values` replaced by [redacted]. Values shorter
// than 3 characters are left alone: replacing them would shred the text and hide nothing.
std::string scrub(std::string text, const std::vector<std::string>& values);
// The values every live secret_scope holds, longest first.
std::vector<std::string> registered_secrets();

// Registers secret values for every log line to be scrubbed of, for its lifetime.
class secret_scope {
 public:
  secret_scope() = default;
  explicit secret_scope(std::vector<std::string> values);
  ~secret_scope();
  secret_scope(secret_scope&& other) noexcept;
  secret_scope& operator=(secret_scope&& other) noexcept;
  secret_scope(const secret_scope&) = delete;
  secret_scope& operator=(const secret_scope&) = delete;

 private:
  void release();
  std::vector<std::string> _values;
};

}  // namespace rill::log
