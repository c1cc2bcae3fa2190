// The consumer groups of the simulated cluster: the rebalance barrier, generations, the range
// assignor (eager) and a sticky one (cooperative), eviction by session timeout and
// max.poll.interval.ms on the logical clock.
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
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    m.generation = g.generation;
  }
  if (g.cooperative.value_or(false)) {
    ++stats.cooperative_rebalances;
    assign_sticky(g);
  } else {
    assign_range(g);
  }
}

namespace {
std::set<std::string> subscribed(const group& g) {
  std::set<std::string> out;
  for (const auto& [id, m] : g.members) out.insert(m.topics.begin(), m.topics.end());
  return out;
}
bool subscribes(const member& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}
}  // namespace

void cluster::state::assign_range(group& g) {
  for (const auto& t : subscribed(g)) {
    auto it = topics.find(t);
    if (it == topics.end()) continue;
    std::vector<member*> subscribers;
    for (auto& [id, m] : g.members) {
      if (subscribes(m, t)) subscribers.push_back(&m);
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

// The sticky assignor deals units: partition number p of every subscribed topic, kept
// together as Kafka Streams' own assignor keeps a task's co-partitioned inputs on one member.
// Each member keeps the units it owned up to its share (the count over the members, one more
// for the first remainder of them); the rest, and units no one owned, go to members below
// their share, in member order. A unit that moves is given to no one in this generation: its
// owner revokes it first.
void cluster::state::assign_sticky(group& g) {
  const std::set<std::string> all = subscribed(g);
  std::size_t units = 0;
  for (const auto& t : all) {
    if (auto it = topics.find(t); it != topics.end()) units = std::max(units, it->second.size());
  }
  std::vector<member*> members;
  for (auto& [id, m] : g.members) members.push_back(&m);
  if (members.empty() || units == 0) return;
  std::vector<member*> owner(units, nullptr);
  for (member* m : members) {
    for (const auto& tp : m->owned) {
      const auto p = static_cast<std::size_t>(tp.partition);
      if (p < units && owner[p] == nullptr) owner[p] = m;
    }
  }
  const std::size_t share = units / members.size();
  std::size_t larger = units % members.size();  // shares of one more still to give
  std::map<member*, std::vector<std::size_t>> dealt;
  std::vector<std::size_t> pool;
  for (std::size_t p = 0; p < units; ++p) {
    if (owner[p] == nullptr) pool.push_back(p);
  }
  for (member* m : members) {
    auto& keep = dealt[m];
    for (std::size_t p = 0; p < units; ++p) {
      if (owner[p] == m) keep.push_back(p);
    }
    std::size_t limit = share;
    if (keep.size() > share && larger > 0) {
      ++limit;
      --larger;
    }
    for (std::size_t i = limit; i < keep.size(); ++i) pool.push_back(keep[i]);
    keep.resize(std::min(keep.size(), limit));
  }
  std::sort(pool.begin(), pool.end());
  auto next = pool.begin();
  for (member* m : members) {
    while (dealt[m].size() < share && next != pool.end()) dealt[m].push_back(*next++);
  }
  for (member* m : members) {
    if (next == pool.end() || larger == 0) break;
    if (dealt[m].size() == share) {
      dealt[m].push_back(*next++);
      --larger;
    }
  }
  for (member* m : members) {
    for (std::size_t p : dealt[m]) {
      if (owner[p] != nullptr && owner[p] != m) continue;  // its owner revokes it first
      for (const auto& t : all) {
        auto it = topics.find(t);
        if (it != topics.end() && p < it->second.size() && subscribes(*m, t))
          m->assignment.push_back({t, static_cast<std::int32_t>(p)});
      }
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
