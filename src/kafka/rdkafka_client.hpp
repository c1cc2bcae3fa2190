// The librdkafka implementation of the client interfaces (client.hpp).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "src/kafka/client.hpp"

namespace rill::kafka {

class embedded_broker_impl;

// Which broker the clients talk to, and how internal topics get created there.
struct cluster_target {
  std::string bootstrap_servers;
  // In-process mock cluster: topics are created directly on it.
  std::shared_ptr<embedded_broker_impl> embedded;
  // A rill-broker in another process: topics are created through its control port.
  std::string control_address;
};

std::unique_ptr<client_factory> make_rdkafka_factory(cluster_target target);

// Checks librdkafka properties by setting them on a throwaway configuration; throws
// rill::config_error naming the property and librdkafka's reason.
void validate_properties(const std::map<std::string, std::string>& props, std::string_view prefix);

// The client's version, for logs.
std::string librdkafka_version();

}  // namespace rill::kafka
