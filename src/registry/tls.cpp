#include "tls.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include <rill/errors.hpp>

namespace rill::registry::detail {

namespace ssl = boost::asio::ssl;

namespace {
void check(const boost::system::error_code& ec, const std::string& what) {
  if (ec) throw config_error("schema registry TLS: " + what + ": " + ec.message());
}

// OpenSSL 3 reports a file it cannot open as a bare "asio.ssl error": say so first.
void check_readable(const std::string& setting, const std::string& path) {
  if (std::ifstream(path).good()) return;
  throw config_error("schema registry TLS: " + setting + "=" + path +
                     ": cannot read it: " + std::strerror(errno));
}
}  // namespace

std::unique_ptr<ssl::context> make_tls_context(const tls_settings& s) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (s.ca_location.empty()) {
    ctx->set_default_verify_paths(ec);
    check(ec, "cannot load the system's CA certificates");
  } else if (std::filesystem::is_directory(s.ca_location)) {
    ctx->add_verify_path(s.ca_location, ec);  // hashed names, as `openssl rehash` makes
    check(ec, "schema.registry.ssl.ca.location=" + s.ca_location);
  } else {
    check_readable("schema.registry.ssl.ca.location", s.ca_location);
    ctx->load_verify_file(s.ca_location, ec);
    check(ec, "schema.registry.ssl.ca.location=" + s.ca_location);
  }
  if (s.certificate_location.empty() != s.key_location.empty()) {
    throw config_error(
        "schema registry TLS: schema.registry.ssl.certificate.location and "
        "schema.registry.ssl.key.location go together: set both for a client certificate, or "
        "neither");
  }
  if (!s.certificate_location.empty()) {
    check_readable("schema.registry.ssl.certificate.location", s.certificate_location);
    check_readable("schema.registry.ssl.key.location", s.key_location);
    ctx->use_certificate_chain_file(s.certificate_location, ec);
    check(ec, "schema.registry.ssl.certificate.location=" + s.certificate_location);
    // Always a callback, so that an encrypted key never makes OpenSSL prompt on a terminal.
    ctx->set_password_callback(
        [password = s.key_password](std::size_t, ssl::context::password_purpose) {
          return password;
        });
    ctx->use_private_key_file(s.key_location, ssl::context::pem, ec);
    check(ec, "schema.registry.ssl.key.location=" + s.key_location +
                  (s.key_password.empty() ? "" : " (with schema.registry.ssl.key.password)"));
  }
  ctx->set_verify_mode(s.verify_certificate ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

void expect_host(SSL* ssl, const endpoint& e, const tls_settings& s) {
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(e.host, not_an_address);
  const bool is_address = !not_an_address;
  if (!is_address) SSL_set_tlsext_host_name(ssl, e.host.c_str());
  if (!s.verify_certificate || !s.verify_hostname) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int set = is_address ? X509_VERIFY_PARAM_set1_ip_asc(param, e.host.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, e.host.c_str(), 0);
  if (set != 1) throw std::runtime_error("cannot set the host name to verify: " + e.host);
}

std::string handshake_failure(SSL* ssl, const std::string& reason, const endpoint& e,
                              const tls_settings& s) {
  const long result = SSL_get_verify_result(ssl);
  if (s.verify_certificate && result != X509_V_OK) {
    return "the certificate of " + e.url +
           " did not verify: " + X509_verify_cert_error_string(result);
  }
  return "TLS handshake with " + e.url + " failed: " + reason;
}

}  // namespace rill::registry::detail
