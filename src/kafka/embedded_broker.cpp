#include "src/kafka/embedded_broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <rill/embedded_broker.hpp>
#include <rill/errors.hpp>

#include "src/kafka/rdkafka_common.hpp"
#include "src/log/log.hpp"

namespace rill::kafka {

namespace {

// librdkafka's mock leaves Nagle's algorithm on for its connections. A client that pipelines
// requests (a producer flushing a batch for many partitions) then gets the last answer of the
// burst held back until its delayed ACK, about 40 ms on Linux: every flush of a commit took
// that long on the embedded broker. The mock's listening sockets are in this process; an
// accepted connection inherits TCP_NODELAY from its listener on Linux, so setting it there,
// before any client connects, covers every connection. Found by port among the process's
// descriptors; a socket that cannot be changed is left as it was (slower, not wrong).
void disable_nagle_on_listeners(const std::string& bootstrap) {
  std::set<std::uint16_t> ports;
  std::istringstream in(bootstrap);
  for (std::string server; std::getline(in, server, ',');) {
    const auto colon = server.rfind(':');
    if (colon != std::string::npos)
      ports.insert(static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1))));
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sin_family != AF_INET || !ports.contains(ntohs(addr.sin_port))) {
      continue;
    }
    int listening = 0;
    socklen_t size = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    const int on = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // best effort, above
  }
}

}  // namespace

embedded_broker_impl::embedded_broker_impl(int brokers) {
  rk_ptr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  char err[512];
  // The mock cluster needs a client instance to live in; it never connects anywhere.
  rd_kafka_conf_set(conf.get(), "client.id", "rill-embedded-broker", err, sizeof err);
  // It has no bootstrap servers of its own; keep librdkafka from warning about that.
  rd_kafka_conf_set(conf.get(), "log_level", "3", err, sizeof err);
  route_logs(conf.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err);
  if (rk == nullptr) throw rill::error(fmt::format("embedded broker: {}", err));
  (void)conf.release();
  _rk.reset(rk);
  _cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (_cluster == nullptr)
    throw rill::error("embedded broker: could not start librdkafka's mock cluster");
  _bootstrap = rd_kafka_mock_cluster_bootstraps(_cluster);
  disable_nagle_on_listeners(_bootstrap);
  log::logger().info("embedded broker started", log::kv("brokers", brokers),
                     log::kv("bootstrap", _bootstrap));
}

embedded_broker_impl::~embedded_broker_impl() {
  if (_control_thread.joinable()) {
    char stop = 1;
    (void)!::write(_stop_pipe[1], &stop, 1);
    _control_thread.join();
    ::close(_control_fd);
    ::close(_stop_pipe[0]);
    ::close(_stop_pipe[1]);
  }
  if (_cluster != nullptr) rd_kafka_mock_cluster_destroy(_cluster);
}

std::string embedded_broker_impl::create_topic(const std::string& name, std::int32_t partitions) {
  std::lock_guard lock(_mutex);
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(_cluster, name.c_str(), partitions, 1);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return "";
  return fmt::format("create topic '{}' with {} partitions: {}", name, partitions,
                     rd_kafka_err2str(e));
}

void embedded_broker_impl::set_broker_down(std::int32_t id) {
  rd_kafka_mock_broker_set_down(_cluster, id);
}
void embedded_broker_impl::set_broker_up(std::int32_t id) {
  rd_kafka_mock_broker_set_up(_cluster, id);
}

void embedded_broker_impl::push_request_errors(std::int16_t api_key,
                                               const std::vector<std::int32_t>& codes) {
  std::vector<rd_kafka_resp_err_t> errs;
  for (auto c : codes) errs.push_back(static_cast<rd_kafka_resp_err_t>(c));
  rd_kafka_mock_push_request_errors_array(_cluster, api_key, errs.size(), errs.data());
}

void embedded_broker_impl::clear_request_errors(std::int16_t api_key) {
  rd_kafka_mock_clear_request_errors(_cluster, api_key);
}

std::uint16_t embedded_broker_impl::serve_control() {
  std::lock_guard lock(_mutex);
  if (_control_thread.joinable())
    throw rill::error("embedded broker: the control port is already served");
  _control_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (_control_fd < 0 ||
      ::bind(_control_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(_control_fd, 16) != 0 ||
      ::getsockname(_control_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe(_stop_pipe) != 0) {
    throw rill::error(
        fmt::format("embedded broker: cannot open a control port: {}", std::strerror(errno)));
  }
  _control_thread = std::thread([this] { control_loop(); });
  return ntohs(addr.sin_port);
}

// One request per connection: "CREATE <topic> <partitions>\n" -> "OK\n" or "ERROR <why>\n".
void embedded_broker_impl::control_loop() {
  for (;;) {
    pollfd fds[2] = {{_control_fd, POLLIN, 0}, {_stop_pipe[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    int client = ::accept(_control_fd, nullptr, nullptr);
    if (client < 0) continue;
    std::string request;
    char buf[256];
    while (request.find('\n') == std::string::npos) {
      ssize_t n = ::read(client, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::istringstream in(request);
    std::string verb, topic;
    std::int32_t partitions = 0;
    in >> verb >> topic >> partitions;
    std::string reply;
    if (verb != "CREATE" || topic.empty() || partitions < 1) {
      reply = "ERROR expected: CREATE <topic> <partitions>\n";
    } else {
      std::string e = create_topic(topic, partitions);
      reply = e.empty() ? "OK\n" : "ERROR " + e + "\n";
    }
    (void)!::write(client, reply.data(), reply.size());
    ::close(client);
  }
}

std::string control_create_topic(const std::string& address, const std::string& topic,
                                 std::int32_t partitions) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return fmt::format("broker.control '{}' is not host:port", address);
  std::string host = address.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return fmt::format("broker.control '{}': not an IPv4 address", address);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return fmt::format("cannot reach the rill-broker control port {}: {}", address, why);
  }
  std::string request = fmt::format("CREATE {} {}\n", topic, partitions);
  (void)!::write(fd, request.data(), request.size());
  std::string reply;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (reply.starts_with("OK")) return "";
  return reply.empty() ? "no reply from the rill-broker control port"
                       : reply.substr(0, reply.find('\n'));
}

}  // namespace rill::kafka

namespace rill {

embedded_broker::embedded_broker(int brokers)
    : _impl(std::make_shared<kafka::embedded_broker_impl>(brokers)) {}

embedded_broker embedded_broker::shared() {
  // Lives from first use until the process exits, like a broker the process started.
  static std::mutex mutex;
  static std::shared_ptr<kafka::embedded_broker_impl> instance;
  std::lock_guard lock(mutex);
  if (!instance) instance = std::make_shared<kafka::embedded_broker_impl>(1);
  return embedded_broker(instance);
}

const std::string& embedded_broker::bootstrap_servers() const {
  return _impl->bootstrap_servers();
}

void embedded_broker::create_topic(const std::string& name, std::int32_t partitions) {
  if (std::string e = _impl->create_topic(name, partitions); !e.empty()) throw rill::error(e);
}

void embedded_broker::set_broker_down(std::int32_t id) {
  _impl->set_broker_down(id);
}
void embedded_broker::set_broker_up(std::int32_t id) {
  _impl->set_broker_up(id);
}
void embedded_broker::push_request_errors(std::int16_t api_key,
                                          const std::vector<std::int32_t>& codes) {
  _impl->push_request_errors(api_key, codes);
}
void embedded_broker::clear_request_errors(std::int16_t api_key) {
  _impl->clear_request_errors(api_key);
}
std::uint16_t embedded_broker::serve_control() {
  return _impl->serve_control();
}

}  // namespace rill
