// The registry client over HTTPS, against tests/registry/test_registry.py in its TLS mode,
// with a CA and certificates made at test time (tests/registry/make_test_certs.sh).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include <rill/registry.hpp>

#include "../registry/registry_server.hpp"
#include "../registry/test_certificates.hpp"

using namespace rill::registry;

namespace {

const schema order_v1{"AVRO",
                      R"({"type":"record","name":"order","namespace":"shop","fields":[)"
                      R"({"name":"id","type":"string"}]})",
                      {}};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class registry_tls : public ::testing::Test {
 protected:
  rill::test::test_certificates certs;
  tls_settings trusting_the_test_ca() const { return {.ca_location = certs.file("ca.pem")}; }
};

}  // namespace

TEST_F(registry_tls, registers_and_reads_back_a_schema_over_https_with_the_ca_configured) {
  auto options = certs.serving("server");
  options.sni_log = certs.file("sni.log");
  rill::test::registry_server server(options);
  ASSERT_EQ(server.url().rfind("https://localhost:", 0), 0u);
  auto reg = connect({.url = server.url(), .tls = trusting_the_test_ca()});
  const int id = reg->register_schema("orders-value", order_v1);
  EXPECT_GT(id, 0);
  EXPECT_EQ(reg->by_id(id), order_v1);
  EXPECT_EQ(reg->by_version("orders-value", -1).id, id);
  // The certificate names 127.0.0.1 too; an address is checked as an address, without SNI.
  auto by_address = connect(
      {.url = "https://127.0.0.1:" + std::to_string(server.port()), .tls = trusting_the_test_ca()});
  EXPECT_EQ(by_address->by_id(id), order_v1);
  EXPECT_EQ(text_of(certs.file("sni.log")), "localhost\nlocalhost\n-\n");
}

TEST_F(registry_tls, a_certificate_from_an_unknown_ca_is_an_error_naming_the_url_and_the_reason) {
  rill::test::registry_server server(certs.serving("server"));
  const std::string expected = "registry: fetch schema id 1: the certificate of " + server.url() +
                               " did not verify: unable to get local issuer certificate";
  auto system_cas = connect({.url = server.url()});  // the test CA is not among them
  EXPECT_EQ(error_of([&] { system_cas->by_id(1); }), expected);
  auto other_ca =
      connect({.url = server.url(), .tls = {.ca_location = certs.file("other-ca.pem")}});
  EXPECT_EQ(error_of([&] { other_ca->by_id(1); }), expected);
  try {
    other_ca->register_schema("orders-value", order_v1);
    FAIL() << "registered through a certificate that does not verify";
  } catch (const registry_error& e) {
    EXPECT_EQ(e.http_status(), 0);  // no answer, as in an outage
  }
}

TEST_F(registry_tls, checks_the_host_name_unless_told_not_to) {
  rill::test::registry_server server(certs.serving("wrong-name"));  // for registry.invalid
  auto by_name = connect({.url = server.url(), .tls = trusting_the_test_ca()});
  EXPECT_EQ(error_of([&] { by_name->by_id(1); }),
            "registry: fetch schema id 1: the certificate of " + server.url() +
                " did not verify: hostname mismatch");
  const std::string address_url = "https://127.0.0.1:" + std::to_string(server.port());
  auto by_address = connect({.url = address_url, .tls = trusting_the_test_ca()});
  EXPECT_EQ(error_of([&] { by_address->by_id(1); }),
            "registry: fetch schema id 1: the certificate of " + address_url +
                " did not verify: IP address mismatch");
  tls_settings any_name = trusting_the_test_ca();
  any_name.verify_hostname = false;
  EXPECT_GT(connect({.url = server.url(), .tls = any_name})->register_schema("o-value", order_v1),
            0);
}

TEST_F(registry_tls, without_certificate_verification_accepts_any_certificate) {
  rill::test::registry_server server(certs.serving("other-server"));
  auto reg = connect({.url = server.url(), .tls = {.verify_certificate = false}});
  EXPECT_GT(reg->register_schema("orders-value", order_v1), 0);
}

TEST_F(registry_tls, serves_cached_schemas_when_the_certificate_stops_verifying) {
  rill::test::registry_server server(certs.serving("server"));
  auto reg = connect({.url = server.url(), .tls = trusting_the_test_ca()});
  const int id = reg->register_schema("orders-value", order_v1);
  reg->by_version("orders-value", -1);
  server.restart(certs.serving("other-server"));  // same port, a CA the client does not trust
  EXPECT_EQ(reg->by_id(id), order_v1);
  EXPECT_EQ(reg->register_schema("orders-value", order_v1), id);
  EXPECT_EQ(reg->lookup("orders-value", order_v1)->id, id);
  EXPECT_EQ(reg->by_version("orders-value", -1).id, id);
  EXPECT_EQ(error_of([&] { reg->by_id(id + 1); }),
            "registry: fetch schema id " + std::to_string(id + 1) + ": the certificate of " +
                server.url() + " did not verify: unable to get local issuer certificate");
}

TEST_F(registry_tls, sends_a_client_certificate_when_the_registry_asks_for_one) {
  auto options = certs.serving("server");
  options.client_ca = certs.file("ca.pem");
  rill::test::registry_server server(options);
  auto anonymous = connect({.url = server.url(), .tls = trusting_the_test_ca()});
  // TLS 1.3: the registry's verdict on the client comes after the handshake, as an alert.
  EXPECT_EQ(error_of([&] { anonymous->by_id(1); }),
            "registry: fetch schema id 1: " + server.url() +
                " ended the TLS session: tlsv13 alert certificate required");

  tls_settings with_certificate = trusting_the_test_ca();
  with_certificate.certificate_location = certs.file("client.pem");
  with_certificate.key_location = certs.file("client.key");
  EXPECT_GT(connect({.url = server.url(), .tls = with_certificate})->register_schema("a", order_v1),
            0);
  tls_settings locked = with_certificate;
  locked.key_location = certs.file("client-locked.key");
  locked.key_password = "hunter2";
  EXPECT_GT(connect({.url = server.url(), .tls = locked})->register_schema("b", order_v1), 0);
}

TEST_F(registry_tls, refuses_tls_files_it_cannot_use_when_the_client_is_made) {
  auto config_error_of = [&](const tls_settings& t) -> std::string {
    try {
      connect({.url = "https://localhost:1", .tls = t});  // never reached: files come first
    } catch (const rill::config_error& e) {
      return e.what();
    }
    return "(no config_error)";
  };
  const std::string missing = certs.file("no-such-ca.pem");
  EXPECT_EQ(config_error_of({.ca_location = missing}),
            "schema registry TLS: schema.registry.ssl.ca.location=" + missing +
                ": cannot read it: No such file or directory");
  tls_settings half = trusting_the_test_ca();
  half.key_location = certs.file("client.key");
  EXPECT_EQ(config_error_of(half),
            "schema registry TLS: schema.registry.ssl.certificate.location and "
            "schema.registry.ssl.key.location go together: set both for a client certificate, "
            "or neither");
  tls_settings locked = half;
  locked.certificate_location = certs.file("client.pem");
  locked.key_location = certs.file("client-locked.key");  // no password: refused, no prompt
  const std::string key_setting = "schema registry TLS: schema.registry.ssl.key.location=";
  EXPECT_EQ(config_error_of(locked), key_setting + locked.key_location + ": bad decrypt");
  locked.key_password = "wrong";
  EXPECT_EQ(config_error_of(locked), key_setting + locked.key_location +
                                         " (with schema.registry.ssl.key.password): bad decrypt");
  tls_settings mismatched = locked;
  mismatched.key_location = certs.file("server.key");
  mismatched.key_password.clear();
  EXPECT_EQ(config_error_of(mismatched),
            key_setting + mismatched.key_location + ": key values mismatch");
  EXPECT_EQ(config_error_of(trusting_the_test_ca()), "(no config_error)");
}

TEST_F(registry_tls, https_to_a_plain_http_registry_fails_with_the_handshakes_reason) {
  rill::test::registry_server server;  // plain HTTP
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  auto reg = connect({.url = url, .tls = trusting_the_test_ca()});
  const std::string what = error_of([&] { reg->by_id(1); });
  EXPECT_EQ(what.rfind("registry: fetch schema id 1: TLS handshake with " + url + " failed: ", 0),
            0u)
      << what;
}

// A peer that takes the connection and never says a word: each step ends at the timeout.
TEST_F(registry_tls, a_registry_that_never_answers_times_out_in_clear_and_over_tls) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  const std::unique_ptr<const int, void (*)(const int*)> closing(
      &listener, [](const int* fd) { ::close(*fd); });
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(listener, 8), 0);  // the kernel completes connections; nobody reads
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));
  const auto timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  auto plain = connect({.url = "http://127.0.0.1:" + port, .timeout = timeout});
  EXPECT_EQ(error_of([&] { plain->by_id(1); }),
            "registry: fetch schema id 1: no answer from 127.0.0.1:" + port + ": timed out");
  auto tls = connect(
      {.url = "https://127.0.0.1:" + port, .timeout = timeout, .tls = trusting_the_test_ca()});
  EXPECT_EQ(error_of([&] { tls->by_id(1); }),
            "registry: fetch schema id 1: TLS handshake with https://127.0.0.1:" + port +
                " failed: timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}
