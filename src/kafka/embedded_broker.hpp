// The mock cluster behind rill::embedded_broker, and the control-port protocol rill-broker
// serves so that clients in other processes can create topics on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "src/kafka/rdkafka_handles.hpp"

namespace rill::kafka {

class embedded_broker_impl {
 public:
  explicit embedded_broker_impl(int brokers);
  ~embedded_broker_impl();
  embedded_broker_impl(const embedded_broker_impl&) = delete;
  embedded_broker_impl& operator=(const embedded_broker_impl&) = delete;

  const std::string& bootstrap_servers() const noexcept { return _bootstrap; }
  // "" on success (also when the topic exists), else why not.
  std::string create_topic(const std::string& name, std::int32_t partitions);
  void set_broker_down(std::int32_t id);
  void set_broker_up(std::int32_t id);
  void push_request_errors(std::int16_t api_key, const std::vector<std::int32_t>& codes);
  void clear_request_errors(std::int16_t api_key);
  std::uint16_t serve_control();

 private:
  void control_loop();

  rk_ptr<rd_kafka_t> _rk;  // owns the mock cluster's threads
  rd_kafka_mock_cluster_t* _cluster = nullptr;
  std::string _bootstrap;
  std::mutex _mutex;
  int _control_fd = -1;
  int _stop_pipe[2] = {-1, -1};
  std::thread _control_thread;
};

// Asks the rill-broker whose control port is at `address` ("host:port") to create a topic.
// "" on success, else why not.
std::string control_create_topic(const std::string& address, const std::string& topic,
                                 std::int32_t partitions);

}  // namespace rill::kafka
