// Turns `bootstrap.servers` (and `broker.control`) into client factories: "embedded" is the
// process's shared embedded broker; anything else is a broker list.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <rill/embedded_broker.hpp>

#include "src/kafka/client.hpp"

namespace rill::runtime {

struct cluster_connection {
  std::unique_ptr<kafka::client_factory> clients;
  std::optional<embedded_broker> embedded;  // keeps the shared in-process broker alive
  std::string bootstrap_servers;            // resolved
};

cluster_connection connect_cluster(const std::string& servers, const std::string& control_address);

}  // namespace rill::runtime
