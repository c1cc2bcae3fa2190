// connect_cluster: `bootstrap.servers` (and `broker.control`) to client factories.
#include "src/runtime/cluster.hpp"

#include "src/kafka/rdkafka_client.hpp"

namespace rill::runtime {

cluster_connection connect_cluster(const std::string& servers, const std::string& control_address) {
  cluster_connection c;
  kafka::cluster_target target;
  if (servers == "embedded") {
    c.embedded = embedded_broker::shared();
    target.embedded = c.embedded->impl();
    target.bootstrap_servers = c.embedded->bootstrap_servers();
  } else {
    target.bootstrap_servers = servers;
    target.control_address = control_address;
  }
  c.bootstrap_servers = target.bootstrap_servers;
  c.clients = kafka::make_rdkafka_factory(std::move(target));
  return c;
}

}  // namespace rill::runtime
