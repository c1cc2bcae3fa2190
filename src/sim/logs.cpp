// The partition logs and transactions of the simulated cluster: markers, the last stable
// offset, aborted ranges, transactional offsets applied at commit.
#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

partition_log& cluster::state::log(const topic_partition& tp) {
  auto it = topics.find(tp.topic);
  if (it == topics.end() || tp.partition < 0 ||
      tp.partition >= static_cast<std::int32_t>(it->second.size())) {
    throw rill::error(fmt::format("simulated cluster: no partition {}", tp.to_string()));
  }
  return it->second[static_cast<std::size_t>(tp.partition)];
}

bool cluster::state::unstable(const std::string& group_id, const topic_partition& tp) const {
  for (const auto& [id, t] : transactional) {
    if (!t.ongoing) continue;
    auto g = t.staged.find(group_id);
    if (g == t.staged.end()) continue;
    for (const auto& po : g->second) {
      if (po.tp == tp) return true;
    }
  }
  return false;
}

void cluster::state::append_marker(const topic_partition& tp, std::int64_t pid, bool commit) {
  partition_log& l = log(tp);
  auto open = l.open.find(pid);
  const std::int64_t first = open == l.open.end() ? l.end() : open->second;
  log_entry marker;
  marker.type = commit ? log_entry::kind::commit : log_entry::kind::abort;
  marker.pid = pid;
  if (!commit) l.aborted.push_back({pid, first, l.end()});
  l.entries.push_back(std::move(marker));
  l.open.erase(pid);
}

std::int64_t cluster::state::append(const produced& r) {
  partition_log& l = log(*r.tp);
  if (r.producer >= 0) {
    auto [last, fresh] = l.sequences.try_emplace({r.producer, r.epoch}, r.sequence);
    if (!fresh && last->second >= r.sequence) {
      ++stats.duplicates_refused;
      return -1;
    }
    last->second = r.sequence;
  }
  if (r.entry.pid >= 0) l.open.try_emplace(r.entry.pid, l.end());
  const std::int64_t offset = l.end();
  l.entries.push_back(r.entry);
  data_arrived.notify_all();
  return offset;
}

void cluster::state::end_transaction(transactional_producer& t, bool commit) {
  for (const auto& tp : t.partitions) append_marker(tp, t.pid, commit);
  if (commit) {
    for (const auto& [group_id, offsets] : t.staged) {
      for (const auto& po : offsets) {
        groups[group_id].committed[po.tp] = po.offset;
        groups[group_id].metadata[po.tp] = po.metadata;
      }
    }
    ++stats.committed_transactions;
  } else {
    ++stats.aborted_transactions;
  }
  t.partitions.clear();
  ++t.ended;
  t.staged.clear();
  t.ongoing = false;
  data_arrived.notify_all();
}

}  // namespace rill::sim
