// Schema-registry serdes: the client, the settings and Confluent's wire format.
//
//   rill::registry::settings s{.url = "http://registry:8081"};
//   auto reg = rill::registry::connect(s);              // one per app; shared by serdes
//   rill::avro_serde<order> orders(reg);                 // <rill/avro.hpp>
//   rill::protobuf_serde<shop::Order> out(reg);          // <rill/protobuf.hpp>
//
// Wire format (Confluent's): byte 0 is the magic 0, bytes 1-4 the schema id (big-endian),
// then the payload. Protobuf payloads start with the message-index list: zigzag varints,
// the count then the indexes, with the single byte 0 for the first message of the file.
//
// The client speaks the registry's REST API over HTTP or HTTPS (Boost.Beast, OpenSSL):
// register, look up by id, by subject and version, by schema, and check compatibility.
// Ids, schemas and the subject->id pairs the serdes use are cached for the client's
// lifetime, so records whose schemas were seen once go on while the registry is down or
// its certificate does not verify. Every failure throws registry_error (a serde_error, so
// the deserialization handler gets it) naming the subject or id and the registry's answer.
// Thread-safe; blocking calls, each step bounded by settings::timeout.
//
// Link rill::registry (target rill_registry); rill::rill does not pull it in.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rill/bytes.hpp>
#include <rill/errors.hpp>

namespace rill::registry {

// How a serde names the subject it registers and looks up schemas under.
enum class subject_strategy {
  topic_name,         // "<topic>-value" / "<topic>-key" (Confluent's default)
  record_name,        // the record's full name, "shop.order"
  topic_record_name,  // "<topic>-shop.order"
};

// TLS to an https:// registry. By default the registry's certificate must chain to a
// trusted CA and name the URL's host (its DNS name or IP address).
struct tls_settings {
  std::string ca_location;           // PEM file or directory of CAs; empty: the system's
  std::string certificate_location;  // this client's certificate (PEM), for mutual TLS
  std::string key_location;          // its private key (PEM)
  std::string key_password;          // the key's password, when it is encrypted
  bool verify_certificate = true;    // false: accept any certificate (and any host name)
  bool verify_hostname = true;       // false: accept a trusted certificate for another host
};

struct settings {
  std::string url;                  // http[s]://host:port[/prefix]
  std::string basic_auth;           // "user:password", sent as HTTP basic auth when set
  bool auto_register = false;       // serializers register the schema when it is missing
  bool use_latest_version = false;  // serializers write with the subject's latest id
  subject_strategy key_strategy = subject_strategy::topic_name;
  subject_strategy value_strategy = subject_strategy::topic_name;
  std::chrono::milliseconds timeout{10'000};  // per request: connect, handshake, write, read
  tls_settings tls;

  // From Confluent's setting names: schema.registry.url, basic.auth.user.info,
  // auto.register.schemas, use.latest.version, key.subject.name.strategy,
  // value.subject.name.strategy (TopicNameStrategy, RecordNameStrategy,
  // TopicRecordNameStrategy, with or without the Java package),
  // schema.registry.request.timeout.ms, and for TLS schema.registry.ssl.ca.location,
  // schema.registry.ssl.certificate.location, schema.registry.ssl.key.location,
  // schema.registry.ssl.key.password, schema.registry.enable.ssl.certificate.verification
  // and schema.registry.ssl.endpoint.identification.algorithm (https or none). Throws
  // config_error for an unknown key or value.
  static settings from(const std::map<std::string, std::string>& properties);
};

// The registry refused, failed or could not be reached. what() names the subject or id
// and the registry's answer ("registry: register under subject 'orders-value': HTTP 409
// (error 409): Schema being registered is incompatible with an earlier schema").
class registry_error : public serde_error {
 public:
  registry_error(const std::string& what, int http_status, int error_code)
      : serde_error(what), _status(http_status), _code(error_code) {}
  int http_status() const noexcept { return _status; }  // 0: no answer
  int error_code() const noexcept { return _code; }     // the body's error_code, or 0
 private:
  int _status;
  int _code;
};

struct reference {
  std::string name;  // the import, "common/money.proto"
  std::string subject;
  int version = 0;
  bool operator==(const reference&) const = default;
};

struct schema {
  std::string type = "AVRO";  // AVRO, PROTOBUF or JSON
  std::string text;
  std::vector<reference> references;
  bool operator==(const schema&) const = default;
};

struct registered_schema {
  std::string subject;
  int id = 0;
  int version = 0;
  rill::registry::schema schema;
};

// The registry client. Create with connect(); share one per process.
class client {
 public:
  virtual ~client() = default;
  // The id of `s` under `subject`, registering it first (POST /subjects/{s}/versions).
  virtual int register_schema(const std::string& subject, const schema& s) = 0;
  // The id of `s` if it is registered under `subject` (POST /subjects/{s}); nullopt if not.
  virtual std::optional<registered_schema> lookup(const std::string& subject, const schema& s) = 0;
  // GET /schemas/ids/{id}.
  virtual schema by_id(int id) = 0;
  // GET /subjects/{s}/versions/{version}; version -1 is "latest".
  virtual registered_schema by_version(const std::string& subject, int version) = 0;
  // POST /compatibility/subjects/{s}/versions/latest.
  virtual bool is_compatible(const std::string& subject, const schema& s) = 0;
  virtual const settings& config() const = 0;
};

// A client on settings.url. Connects lazily: the first call that needs the registry does.
// For https, loads the TLS files now: throws config_error naming the setting, the file and
// OpenSSL's reason when one cannot be read.
std::shared_ptr<client> connect(const settings& s);

// A registry in memory (ids from 1, no compatibility rules): for tests and the fuzzer, as
// Confluent's MockSchemaRegistryClient.
std::shared_ptr<client> in_memory(const settings& s = {});

// Confluent's wire format.
namespace wire {
inline constexpr std::byte magic{0};
inline constexpr std::size_t header_size = 5;
void write_header(bytes& out, int schema_id);
// The schema id of a framed record; throws serde_error for a short record or a wrong magic
// byte. `what` names the serde and topic for the message.
int read_header(bytes_view in, std::string_view what);
// Protobuf's message-index list: [0] is written as the one byte 0.
void write_message_indexes(bytes& out, const std::vector<int>& indexes);
// Reads the list at in[pos], advancing pos; throws serde_error when malformed.
std::vector<int> read_message_indexes(bytes_view in, std::size_t& pos, std::string_view what);
}  // namespace wire

// The subject for a record of full name `record` on `topic`.
std::string subject_name(subject_strategy strategy, std::string_view topic, bool is_key,
                         std::string_view record);

}  // namespace rill::registry
