#include "src/sim/cluster.hpp"

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

cluster::cluster(std::shared_ptr<fault_injector> faults)
    : _state(std::make_shared<state>()), _faults(std::move(faults)) {}
cluster::~cluster() = default;

void cluster::create_topic(const std::string& name, std::int32_t partitions) {
  std::lock_guard lock(_state->mutex);
  auto& parts = _state->topics[name];
  if (parts.empty()) parts.resize(static_cast<std::size_t>(partitions));
}

std::int32_t cluster::partitions(const std::string& topic) const {
  std::lock_guard lock(_state->mutex);
  auto it = _state->topics.find(topic);
  return it == _state->topics.end() ? -1 : static_cast<std::int32_t>(it->second.size());
}

void cluster::add_partitions(const std::string& topic, std::int32_t total) {
  std::lock_guard lock(_state->mutex);
  auto it = _state->topics.find(topic);
  if (it == _state->topics.end() || total < static_cast<std::int32_t>(it->second.size())) {
    throw rill::error(
        fmt::format("simulated cluster: cannot grow topic '{}' to {} partitions", topic, total));
  }
  it->second.resize(static_cast<std::size_t>(total));
  for (auto& [id, g] : _state->groups) {
    const bool subscribed = std::any_of(g.members.begin(), g.members.end(), [&](const auto& m) {
      const auto& topics = m.second.topics;
      return std::find(topics.begin(), topics.end(), topic) != topics.end();
    });
    if (subscribed) _state->start_rebalance(id);
  }
}

std::int64_t cluster::now() const {
  std::lock_guard lock(_state->mutex);
  return _state->clock;
}

void cluster::advance(std::int64_t ms) {
  std::lock_guard lock(_state->mutex);
  _state->clock += ms;
  // The coordinator aborts transactions open longer than their timeout and bumps the
  // epoch, so their producer is fenced when it comes back.
  for (auto& [id, txn] : _state->transactional) {
    if (!txn.ongoing || _state->clock - txn.started <= txn.timeout_ms) continue;
    _state->end_transaction(txn, false);
    ++txn.epoch;
    ++_state->stats.timed_out_transactions;
  }
}

std::unique_ptr<kafka::client_factory> cluster::clients(const std::string& who) {
  return make_clients(_state, _faults.get(), who);
}

std::vector<cluster::record> cluster::read_committed(const std::string& topic,
                                                     std::int32_t partition) const {
  std::lock_guard lock(_state->mutex);
  std::vector<record> out;
  const partition_log& l = _state->log({topic, partition});
  const std::int64_t end = l.stable_end();
  for (std::int64_t o = 0; o < end; ++o) {
    const log_entry& e = l.entries[static_cast<std::size_t>(o)];
    if (e.type != log_entry::kind::data || l.is_aborted(o, e.pid)) continue;
    out.push_back({e.key, e.value, e.headers, e.timestamp, o});
  }
  return out;
}

std::vector<cluster::record> cluster::read_committed(const std::string& topic) const {
  std::vector<record> out;
  for (std::int32_t p = 0; p < partitions(topic); ++p) {
    auto part = read_committed(topic, p);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

bool cluster::drained(const std::string& group_id, const std::vector<std::string>& topics) const {
  std::lock_guard lock(_state->mutex);
  for (const auto& [name, parts] : _state->topics) {
    for (const auto& p : parts) {
      if (!p.open.empty()) return false;
    }
  }
  auto g = _state->groups.find(group_id);
  for (const auto& t : topics) {
    auto it = _state->topics.find(t);
    if (it == _state->topics.end()) continue;
    for (std::size_t p = 0; p < it->second.size(); ++p) {
      const partition_log& l = it->second[p];
      std::int64_t last = -1;
      for (std::int64_t o = l.end() - 1; o >= 0; --o) {
        const log_entry& e = l.entries[static_cast<std::size_t>(o)];
        if (e.type == log_entry::kind::data && !l.is_aborted(o, e.pid)) {
          last = o;
          break;
        }
      }
      if (last < 0) continue;
      if (g == _state->groups.end()) return false;
      auto c = g->second.committed.find({t, static_cast<std::int32_t>(p)});
      if (c == g->second.committed.end() || c->second <= last) return false;
    }
  }
  return true;
}

void cluster::produce(const std::string& topic, std::int32_t partition, std::optional<bytes> key,
                      std::optional<bytes> value, timestamp_ms timestamp) {
  std::lock_guard lock(_state->mutex);
  partition_log& l = _state->log({topic, partition});
  log_entry e;
  e.key = std::move(key);
  e.value = std::move(value);
  e.timestamp = timestamp;
  l.entries.push_back(std::move(e));
  _state->data_arrived.notify_all();
}

cluster::counters cluster::stats() const {
  std::lock_guard lock(_state->mutex);
  return _state->stats;
}

}  // namespace rill::sim
