#include "src/runtime/instance_directory.hpp"

#include <charconv>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/runtime/logging.hpp"
#include "src/runtime/partitioner.hpp"

namespace rill::runtime {

instance_directory::instance_directory(kafka::client_factory& clients,
                                       std::map<std::string, std::string> props, std::string topic,
                                       std::string self, std::string name, log::logger log)
    : _topic(std::move(topic)),
      _self(std::move(self)),
      _name(std::move(name)),
      _log(std::move(log)) {
  auto consumer_props = props;
  consumer_props["group.id"] = _name;  // required by librdkafka; no group is joined
  consumer_props["client.id"] = _name + "-consumer";
  consumer_props["enable.auto.commit"] = "false";
  consumer_props["enable.partition.eof"] = "false";
  consumer_props["auto.offset.reset"] = "earliest";
  _consumer = clients.make_consumer(consumer_props);
  _producer = clients.make_producer({{"client.id", _name + "-producer"}, {"linger.ms", "0"}});
  if (kafka::error e = _consumer->assign({{{_topic, 0}, -1}}))
    throw error(fmt::format("{}: cannot read '{}': {}", _name, _topic, e.message()));
}

instance_directory::~instance_directory() {
  _stop = true;
  if (_thread.joinable()) _thread.join();
}

void instance_directory::start() {
  _thread = std::thread([this] { run(); });
}

void instance_directory::run() {
  std::vector<kafka::consumed_record> batch;
  while (!_stop) {
    batch.clear();
    if (kafka::error e = _consumer->poll(std::chrono::milliseconds(100), 1000, batch)) {
      _log.warn("poll failed", kv("error", e.message()));
      continue;
    }
    for (const auto& r : batch) {
      if (!r.raw.key) continue;
      const std::string server(as_chars(*r.raw.key));
      std::optional<partitions> claimed;
      if (r.raw.value) claimed = decode(as_chars(*r.raw.value));
      apply(server, claimed);
      ++_read;
    }
  }
}

void instance_directory::apply(const std::string& server,
                               const std::optional<partitions>& claimed) {
  std::lock_guard lock(_mutex);
  for (auto it = _owner.begin(); it != _owner.end();) {
    if (it->second == server && (!claimed || !claimed->contains(it->first)))
      it = _owner.erase(it);
    else
      ++it;
  }
  if (!claimed) {
    _servers.erase(server);
    return;
  }
  _servers.insert(server);
  for (const auto& tp : *claimed) _owner[tp] = server;
}

void instance_directory::publish(const partitions& active) {
  {
    std::lock_guard lock(_mutex);
    if (_published == active) return;
    _published = active;
  }
  const std::string value = encode(active);
  if (kafka::error e = _producer->send(_topic, 0, as_bytes(_self), as_bytes(value), {}, 0))
    _log.warn("cannot announce this instance's partitions", kv("error", e.message()));
  _producer->poll();
}

void instance_directory::stop(std::chrono::milliseconds timeout) {
  if (_published) {
    if (kafka::error e = _producer->send(_topic, 0, as_bytes(_self), std::nullopt, {}, 0))
      _log.warn("cannot withdraw this instance", kv("error", e.message()));
  }
  if (kafka::error e = _producer->flush(timeout))
    _log.warn("announcements not delivered", kv("error", e.message()));
  _stop = true;
  if (_thread.joinable()) _thread.join();
  _consumer->close();
}

std::map<std::string, instance_directory::partitions> instance_directory::instances() const {
  std::lock_guard lock(_mutex);
  std::map<std::string, partitions> out;
  for (const auto& s : _servers) out[s];
  for (const auto& [tp, server] : _owner) out[server].insert(tp);
  return out;
}

std::optional<std::string> instance_directory::owner(const kafka::topic_partition& tp) const {
  std::lock_guard lock(_mutex);
  auto it = _owner.find(tp);
  if (it == _owner.end()) return std::nullopt;
  return it->second;
}

std::string instance_directory::encode(const partitions& ps) {
  std::string out;
  for (const auto& tp : ps) out += fmt::format("{} {}\n", tp.topic, tp.partition);
  return out;
}

instance_directory::partitions instance_directory::decode(std::string_view text) {
  partitions out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto space = line.rfind(' ');
    if (space == std::string_view::npos) continue;  // not ours: ignored
    std::int32_t p = 0;
    const auto digits = line.substr(space + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) continue;
    out.insert({std::string(line.substr(0, space)), p});
  }
  return out;
}

std::string instances_topic(const std::string& application_id) {
  return application_id + "-instances";
}

void create_instances_topic(kafka::admin& admin, const std::string& topic,
                            std::int32_t replication_factor) {
  if (kafka::error e =
          admin.create_topics({{topic, 1, replication_factor, {{"cleanup.policy", "compact"}}}},
                              std::chrono::seconds(30)))
    throw error(fmt::format("cannot create the instances topic '{}': {}", topic, e.message()));
}

namespace {

// host:port, split at the last colon.
std::pair<std::string, std::uint16_t> split_server(const std::string& server) {
  const auto colon = server.rfind(':');
  if (colon == std::string::npos) return {server, 0};
  std::uint16_t port = 0;
  const char* first = server.data() + colon + 1;
  std::from_chars(first, server.data() + server.size(), port);
  return {server.substr(0, colon), port};
}

const instance_directory& need(const instance_directory* directory) {
  if (directory == nullptr)
    throw config_error("discovery needs application.server (host:port) to be set");
  return *directory;
}

}  // namespace

key_metadata key_owner(const instance_directory* directory, const detail::compiled_topology& topo,
                       const std::string& application_id,
                       const std::map<std::string, std::int32_t>& partition_counts,
                       const std::string& store, bytes_view key) {
  const instance_directory& dir = need(directory);
  if (topo.global(store) != nullptr) {  // every instance has it all
    auto [host, port] = split_server(dir.self());
    return {host, port, 0};
  }
  const detail::compiled_store* st = topo.store(store);
  if (st == nullptr) throw invalid_store_error(fmt::format("no store named '{}'", store));
  const detail::subtopology_def* sub = nullptr;
  for (const auto& s : topo.subtopologies)
    if (s.id == st->subtopology) sub = &s;
  if (sub == nullptr || sub->source_topics.empty())
    throw invalid_store_error(fmt::format("store '{}' is not fed by any topic", store));
  // Co-partitioned sources: any of them names the task; the first will do.
  const std::string topic = detail::resolve_topic(application_id, sub->source_topics.front());
  auto count = partition_counts.find(topic);
  if (count == partition_counts.end())
    throw store_unavailable_error(fmt::format("the partitions of '{}' are not known yet", topic));
  const std::int32_t p = default_partition(key, count->second);
  std::optional<std::string> owner = dir.owner({topic, p});
  if (!owner) {
    throw store_unavailable_error(fmt::format(
        "no instance holds partition {} of '{}' (store '{}') now; try again after the rebalance", p,
        topic, store));
  }
  auto [host, port] = split_server(*owner);
  return {host, port, p};
}

std::vector<instance_metadata> every_instance(const instance_directory* directory,
                                              const detail::compiled_topology& topo,
                                              const std::string& application_id) {
  const instance_directory& dir = need(directory);
  std::vector<instance_metadata> out;
  for (const auto& [server, held] : dir.instances()) {
    instance_metadata m;
    std::tie(m.host, m.port) = split_server(server);
    std::set<std::string> stores;
    for (const auto& tp : held) {
      m.partitions.push_back({tp.topic, tp.partition});
      for (const auto& sub : topo.subtopologies) {
        for (const auto& t : sub.source_topics) {
          if (detail::resolve_topic(application_id, t) == tp.topic)
            stores.insert(sub.stores.begin(), sub.stores.end());
        }
      }
    }
    for (const auto& g : topo.globals) stores.insert(g.store.name);
    m.stores.assign(stores.begin(), stores.end());
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace rill::runtime
