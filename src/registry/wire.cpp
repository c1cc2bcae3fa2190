// Confluent's wire format, subject names and the settings' Confluent names.
#include <charconv>
#include <string>

#include <rill/registry.hpp>

namespace rill::registry {

namespace wire {

void write_header(bytes& out, int schema_id) {
  const auto id = static_cast<std::uint32_t>(schema_id);
  out.push_back(magic);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::byte((id >> shift) & 0xff));
}

int read_header(bytes_view in, std::string_view what) {
  if (in.size() < header_size) {
    throw serde_error(std::string(what) + ": " + std::to_string(in.size()) +
                      " bytes, too short for the schema registry's 5-byte header");
  }
  if (in[0] != magic) {
    throw serde_error(std::string(what) + ": unknown magic byte " +
                      std::to_string(static_cast<int>(in[0])) +
                      ", expected 0 (not written by a schema-registry serializer)");
  }
  std::uint32_t id = 0;
  for (std::size_t i = 1; i < header_size; ++i) id = (id << 8) | static_cast<std::uint8_t>(in[i]);
  return static_cast<int>(id);
}

namespace {
void write_varint(bytes& out, std::int64_t v) {
  auto u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);  // zigzag
  while (u >= 0x80) {
    out.push_back(std::byte((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out.push_back(std::byte(u));
}

std::int64_t read_varint(bytes_view in, std::size_t& pos, std::string_view what) {
  std::uint64_t u = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size())
      throw serde_error(std::string(what) + ": the message-index list is cut short");
    const auto b = static_cast<std::uint8_t>(in[pos++]);
    u |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  throw serde_error(std::string(what) + ": a varint in the message-index list runs over 10 bytes");
}
}  // namespace

void write_message_indexes(bytes& out, const std::vector<int>& indexes) {
  if (indexes.size() == 1 && indexes[0] == 0) {
    out.push_back(std::byte{0});
    return;
  }
  write_varint(out, static_cast<std::int64_t>(indexes.size()));
  for (int i : indexes) write_varint(out, i);
}

std::vector<int> read_message_indexes(bytes_view in, std::size_t& pos, std::string_view what) {
  const std::int64_t count = read_varint(in, pos, what);
  if (count == 0) return {0};
  // Each index takes at least one byte: a count beyond what is left is garbage.
  if (count < 0 || static_cast<std::uint64_t>(count) > in.size() - pos) {
    throw serde_error(std::string(what) + ": the message-index list claims " +
                      std::to_string(count) + " entries");
  }
  std::vector<int> indexes;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t v = read_varint(in, pos, what);
    if (v < 0 || v > 1'000'000)
      throw serde_error(std::string(what) + ": message index " + std::to_string(v) + " is invalid");
    indexes.push_back(static_cast<int>(v));
  }
  return indexes;
}

}  // namespace wire

std::string subject_name(subject_strategy strategy, std::string_view topic, bool is_key,
                         std::string_view record) {
  switch (strategy) {
    case subject_strategy::topic_name:
      return std::string(topic) + (is_key ? "-key" : "-value");
    case subject_strategy::record_name:
      return std::string(record);
    case subject_strategy::topic_record_name:
      return std::string(topic) + "-" + std::string(record);
  }
  return {};
}

namespace {
subject_strategy parse_strategy(const std::string& key, std::string v) {
  if (auto dot = v.rfind('.'); dot != std::string::npos) v = v.substr(dot + 1);
  if (v == "TopicNameStrategy") return subject_strategy::topic_name;
  if (v == "RecordNameStrategy") return subject_strategy::record_name;
  if (v == "TopicRecordNameStrategy") return subject_strategy::topic_record_name;
  throw config_error(key + "=" + v +
                     ": expected TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  throw config_error(key + "=" + v + ": expected true or false");
}
}  // namespace

settings settings::from(const std::map<std::string, std::string>& properties) {
  settings s;
  for (const auto& [key, value] : properties) {
    if (key == "schema.registry.url") {
      s.url = value;
    } else if (key == "basic.auth.user.info") {
      s.basic_auth = value;
    } else if (key == "auto.register.schemas") {
      s.auto_register = parse_bool(key, value);
    } else if (key == "use.latest.version") {
      s.use_latest_version = parse_bool(key, value);
    } else if (key == "key.subject.name.strategy") {
      s.key_strategy = parse_strategy(key, value);
    } else if (key == "value.subject.name.strategy") {
      s.value_strategy = parse_strategy(key, value);
    } else if (key == "schema.registry.request.timeout.ms") {
      long ms = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc{} || end != value.data() + value.size() || ms <= 0)
        throw config_error(key + "=" + value + ": expected a positive number of milliseconds");
      s.timeout = std::chrono::milliseconds(ms);
    } else if (key == "schema.registry.ssl.ca.location") {
      s.tls.ca_location = value;
    } else if (key == "schema.registry.ssl.certificate.location") {
      s.tls.certificate_location = value;
    } else if (key == "schema.registry.ssl.key.location") {
      s.tls.key_location = value;
    } else if (key == "schema.registry.ssl.key.password") {
      s.tls.key_password = value;
    } else if (key == "schema.registry.enable.ssl.certificate.verification") {
      s.tls.verify_certificate = parse_bool(key, value);
    } else if (key == "schema.registry.ssl.endpoint.identification.algorithm") {
      if (value != "https" && value != "none" && !value.empty())
        throw config_error(key + "=" + value + ": expected https (check the host name) or none");
      s.tls.verify_hostname = value == "https";  // none or empty, as in Java: do not check
    } else {
      throw config_error(
          "unknown schema-registry setting '" + key +
          "'; known: schema.registry.url, basic.auth.user.info, auto.register.schemas, "
          "use.latest.version, key.subject.name.strategy, value.subject.name.strategy, "
          "schema.registry.request.timeout.ms, schema.registry.ssl.ca.location, "
          "schema.registry.ssl.certificate.location, schema.registry.ssl.key.location, "
          "schema.registry.ssl.key.password, schema.registry.enable.ssl.certificate.verification, "
          "schema.registry.ssl.endpoint.identification.algorithm");
    }
  }
  return s;
}

}  // namespace rill::registry
