// The consumer groups of the simulated cluster: the eager protocol's barrier, generations,
// the range assignor, eviction by session timeout and max.poll.interval.ms on the logical clock.
#include "src/sim/cluster_state.hpp"

namespace rill::sim {

void cluster::state::start_rebalance(const std::string& group_id) {
  group& g = groups[group_id];
  g.preparing = true;
  for (auto& [id, m] : g.members) m.rejoined = false;
  try_complete(group_id);
}

void cluster::state::try_complete(const std::string& group_id) {
  group& g = groups[group_id];
  if (!g.preparing) return;
  for (const auto& [id, m] : g.members) {
    if (!m.rejoined) return;
  }
  g.preparing = false;
  ++g.generation;
  ++stats.rebalances;
  std::set<std::string> all_topics;
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    all_topics.insert(m.topics.begin(), m.topics.end());
  }
  for (const auto& t : all_topics) {
    auto it = topics.find(t);
    if (it == topics.end()) continue;
    std::vector<member*> subscribers;
    for (auto& [id, m] : g.members) {
      if (std::find(m.topics.begin(), m.topics.end(), t) != m.topics.end())
        subscribers.push_back(&m);
    }
    if (subscribers.empty()) continue;
    const auto n = static_cast<std::int32_t>(it->second.size());
    const auto k = static_cast<std::int32_t>(subscribers.size());
    std::int32_t p = 0;
    for (std::int32_t i = 0; i < k; ++i) {
      const std::int32_t count = n / k + (i < n % k ? 1 : 0);
      for (std::int32_t j = 0; j < count; ++j)
        subscribers[static_cast<std::size_t>(i)]->assignment.push_back({t, p++});
    }
  }
}

void cluster::state::expire(const std::string& group_id) {
  group& g = groups[group_id];
  bool changed = false;
  for (auto it = g.members.begin(); it != g.members.end();) {
    const member& m = it->second;
    const bool silent = clock - m.last_seen > m.session_timeout;
    const bool not_polling = clock - m.last_poll > m.max_poll_interval;
    if (silent || not_polling) {
      stats.evicted_for_not_polling += silent ? 0 : 1;
      it = g.members.erase(it);
      ++stats.evicted_members;
      changed = true;
    } else {
      ++it;
    }
  }
  if (!changed) return;
  if (g.preparing)
    try_complete(group_id);
  else
    start_rebalance(group_id);
}

}  // namespace rill::sim
