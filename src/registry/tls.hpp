// The TLS half of the registry's transport, on Boost.Asio SSL and OpenSSL: the client
// context from tls_settings, what each connection expects of the registry's certificate,
// and why a handshake failed, in words.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include <rill/registry.hpp>

#include "http.hpp"

namespace rill::registry::detail {

// Trusted CAs (ca_location, or the system's), the client certificate and key, TLS 1.2 at
// least, and peer verification unless turned off. Throws config_error naming the setting,
// the file and OpenSSL's reason.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const tls_settings& s);

// On a new connection: SNI with the host's name (not for an IP address, as RFC 6066 says),
// and the name or address the certificate must hold, unless verification is off.
void expect_host(SSL* ssl, const endpoint& e, const tls_settings& s);

// Why the handshake failed: OpenSSL's verification reason when the certificate did not
// verify ("the certificate of https://registry:8081 did not verify: certificate has
// expired"), else `reason`, the handshake's error.
std::string handshake_failure(SSL* ssl, const std::string& reason, const endpoint& e,
                              const tls_settings& s);

}  // namespace rill::registry::detail
