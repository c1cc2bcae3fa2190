// A user of the installed rill::registry, built out of tree against an install prefix, once
// through find_package(rill) and once through pkg-config (tests/install/): an Avro record
// through an in-memory registry, and a client for an https:// registry (the TLS context is
// made, with the system's CAs, when the client is: OpenSSL is linked and works).
#include <cstdint>
#include <iostream>
#include <string>

#include <rill/avro.hpp>
#include <rill/registry.hpp>

struct payment {
  std::string id;
  std::int64_t cents = 0;
};
BOOST_HANA_ADAPT_STRUCT(payment, id, cents);

int main() {
  rill::avro_serde<payment> serde(rill::registry::in_memory({.auto_register = true}));
  rill::bytes b;
  serde.serialize({"p1", 250}, b, {.topic = "payments"});
  const payment back = serde.deserialize(b, {.topic = "payments"});
  if (back.id != "p1" || back.cents != 250) {
    std::cerr << "read back " << back.id << " " << back.cents << ", expected p1 250\n";
    return 1;
  }
  auto tls = rill::registry::connect(rill::registry::settings::from(
      {{"schema.registry.url", "https://registry.invalid:8081"},
       {"schema.registry.ssl.endpoint.identification.algorithm", "https"}}));
  if (tls->config().url != "https://registry.invalid:8081") return 1;
  std::cout << "installed rill::registry: " << serde.record_name()
            << " read back; an https client made\n";
  return 0;
}
