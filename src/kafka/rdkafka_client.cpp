// The client factory over librdkafka, and the checks of librdkafka properties.
#include "src/kafka/rdkafka_client.hpp"

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/kafka/rdkafka_common.hpp"

namespace rill::kafka {

namespace {

class rdkafka_factory final : public client_factory {
 public:
  explicit rdkafka_factory(cluster_target target) : _target(std::move(target)) {}

  std::unique_ptr<consumer> make_consumer(
      const std::map<std::string, std::string>& props) override {
    return make_rdkafka_consumer(with_bootstrap(props));
  }
  std::unique_ptr<producer> make_producer(
      const std::map<std::string, std::string>& props) override {
    return make_rdkafka_producer(with_bootstrap(props));
  }
  std::unique_ptr<admin> make_admin(const std::map<std::string, std::string>& props) override {
    return make_rdkafka_admin(_target, with_bootstrap(props));
  }

 private:
  std::map<std::string, std::string> with_bootstrap(
      std::map<std::string, std::string> props) const {
    props["bootstrap.servers"] = _target.bootstrap_servers;
    return props;
  }
  cluster_target _target;
};

}  // namespace

std::unique_ptr<client_factory> make_rdkafka_factory(cluster_target target) {
  return std::make_unique<rdkafka_factory>(std::move(target));
}

void validate_properties(const std::map<std::string, std::string>& props, std::string_view prefix) {
  rk_ptr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw config_error(property_error("setting ", std::string(prefix) + k, v, err, props));
  }
}

std::string librdkafka_version() {
  return rd_kafka_version_str();
}

}  // namespace rill::kafka
