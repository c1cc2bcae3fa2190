// The simulated cluster's state (cluster.hpp): partition logs with transaction markers,
// transactional producers, consumer groups. Everything behind one mutex; the clients
// (clients.cpp) and the cluster's own calls (cluster.cpp) take it around every operation.
// Private to src/sim: logs.cpp holds the log and transaction rules, groups.cpp the group
// protocol.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "src/sim/cluster.hpp"

namespace rill::sim {

using kafka::error;
using kafka::partition_offset;
using kafka::topic_partition;

struct log_entry {
  enum class kind : std::uint8_t { data, commit, abort };
  kind type = kind::data;
  std::optional<bytes> key;
  std::optional<bytes> value;
  rill::headers headers;
  timestamp_ms timestamp = 0;
  std::int64_t pid = -1;  // -1: not transactional
};

// A producer's record on its way to a partition: the entry and the idempotent producer's id
// and sequence number for that partition, by which the leader refuses a retry it has already.
struct produced {
  // Its partition: the key of the producer's batch entry, which outlives every record queued
  // or held for it (an abort purges both at once). Not a copy: a record's way to the log
  // costs the same whatever its topic's name.
  const topic_partition* tp = nullptr;
  log_entry entry;
  std::int64_t producer = -1;
  std::int64_t sequence = 0;
  std::int16_t epoch = -1;  // transactional: the epoch it was sent with
};

// Orders topic partitions as topic_partition's <=> does, and finds them by (topic view,
// partition) too: a record's send looks its partition up without copying the topic's name,
// as librdkafka's topic handles do (the simulator's cost per record must not grow with it).
struct tp_less {
  using is_transparent = void;
  using ref = std::pair<std::string_view, std::int32_t>;
  static ref key(const topic_partition& t) { return {t.topic, t.partition}; }
  static ref key(const ref& r) { return r; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return key(a) < key(b);
  }
};

struct partition_log {
  std::vector<log_entry> entries;             // offset = index
  std::map<std::int64_t, std::int64_t> open;  // pid -> first offset of its open transaction here
  struct aborted_range {
    std::int64_t pid;
    std::int64_t first;
    std::int64_t last;  // the abort marker
  };
  std::vector<aborted_range> aborted;
  // (producer id, epoch) -> the last sequence appended; an epoch starts its sequences anew.
  std::map<std::pair<std::int64_t, std::int16_t>, std::int64_t> sequences;

  std::int64_t end() const { return static_cast<std::int64_t>(entries.size()); }
  std::int64_t stable_end() const {
    std::int64_t lso = end();
    for (const auto& [pid, first] : open) lso = std::min(lso, first);
    return lso;
  }
  bool is_aborted(std::int64_t offset, std::int64_t pid) const {
    if (pid < 0) return false;
    return std::any_of(aborted.begin(), aborted.end(), [&](const aborted_range& a) {
      return a.pid == pid && offset >= a.first && offset < a.last;
    });
  }
};

struct transactional_producer {
  std::int64_t pid = 0;
  std::int16_t epoch = -1;
  // The epoch the last init_transactions gave: a producer below it was fenced by a newer
  // holder of the transactional.id (PRODUCER_FENCED); one at it but below `epoch` had its
  // transaction timed out by the coordinator (INVALID_PRODUCER_EPOCH).
  std::int16_t holder_epoch = -1;
  bool ongoing = false;
  std::int64_t started = 0;  // logical clock at begin
  std::int64_t timeout_ms = 60000;
  std::set<topic_partition> partitions;
  std::map<std::string, std::vector<partition_offset>> staged;  // group -> offsets
  // How many transactions ended: a producer's note that a partition is in the transaction
  // holds while this is unchanged (partitions is cleared only when a transaction ends).
  std::uint64_t ended = 0;
};

struct member {
  std::string id;
  std::vector<std::string> topics;
  std::int64_t last_seen = 0;  // its last heartbeat: any call of its consumer
  std::int64_t session_timeout = 6000;
  std::int64_t last_poll = 0;  // max.poll.interval.ms runs from its last poll
  std::int64_t max_poll_interval = 300000;
  std::vector<topic_partition> assignment;  // of the current generation
  int generation = -1;                      // the last generation it was given
  bool rejoined = false;  // while the group prepares a rebalance: has rejoined (eager: revoked)
  // Cooperative: the partitions it held when it rejoined (what it may keep).
  std::vector<topic_partition> owned;
};

// A rebalance first waits for every member to rejoin, or to be evicted when its session
// lapses; only then does the next generation get its assignment. Eager: a member revokes all
// its partitions (committing them) before it rejoins, and the range assignor deals them
// anew. Cooperative (KIP-429): members rejoin keeping their partitions and go on processing
// them; a sticky assignor leaves each where it was as far as balance allows, and a partition
// that must move is first only taken away: its owner revokes it and rejoins, and the
// rebalance that follows gives it to its new member.
struct group {
  int generation = 0;
  bool preparing = false;
  std::optional<bool> cooperative;  // the protocol, set by the first member to join
  std::map<std::string, member> members;
  std::map<topic_partition, std::int64_t> committed;
  std::map<topic_partition, std::string> metadata;  // committed with the offsets
  std::map<topic_partition, std::int64_t> fetched;  // the next offset after the highest fetch
};

struct cluster::state {
  mutable std::mutex mutex;
  std::condition_variable data_arrived;
  std::map<std::string, std::vector<partition_log>, std::less<>> topics;
  std::map<std::string, transactional_producer> transactional;
  std::map<std::string, group> groups;
  std::int64_t clock = 0;
  std::int64_t next_pid = 1000;
  std::uint64_t next_member = 1;
  cluster::counters stats;

  partition_log& log(const topic_partition& tp);

  // An open transaction has sent offsets for this partition (KIP-447: a fetch asking for
  // stable offsets gets UNSTABLE_OFFSET_COMMIT until it ends).
  bool unstable(const std::string& group_id, const topic_partition& tp) const;

  // Starts a rebalance: every member must revoke and rejoin first.
  void start_rebalance(const std::string& group_id);

  // Once every member has rejoined: the next generation, with a range assignment of every
  // subscribed topic over the members, ordered by id (eager), or a sticky one (cooperative).
  void try_complete(const std::string& group_id);
  void assign_range(group& g);
  void assign_sticky(group& g);

  // Removes members whose session lapsed; that starts (or may complete) a rebalance.
  void expire(const std::string& group_id);

  void append_marker(const topic_partition& tp, std::int64_t pid, bool commit);

  // Appends a copy of a producer's record (the leader's own; r stays as it was) and returns
  // its offset, or -1 when the partition has its sequence already (an idempotent retry of a
  // record the leader appended: refused, counted).
  std::int64_t append(const produced& r);

  void end_transaction(transactional_producer& t, bool commit);
};

using state = cluster::state;

// The injector's verdict at a call; throws at once for crash_before.
inline fault_injector::verdict verdict_at(fault_injector* faults, point p, const std::string& who) {
  auto v = faults ? faults->decide(p, who) : fault_injector::verdict::none;
  if (v == fault_injector::verdict::crash_before)
    throw crash(fmt::format("{}: crash before {}", who, to_string(p)));
  return v;
}
inline void crash_if_after(fault_injector::verdict v, point p, const std::string& who) {
  if (v == fault_injector::verdict::crash_after)
    throw crash(fmt::format("{}: crash after {}", who, to_string(p)));
}
// An injected failure: abortable at the points inside a transaction, retriable elsewhere.
inline error injected_failure(point p, const std::string& who) {
  const bool abortable = p == point::produce || p == point::send_offsets ||
                         p == point::commit_transaction || p == point::begin_transaction;
  return {abortable ? error::kind::abortable : error::kind::retriable, 0,
          fmt::format("{}: injected failure of {}", who, to_string(p))};
}

// Applies the injector's verdict around a call: crash before, do it and crash after, or fail
// (points without ambiguous outcomes).
template <class F>
inline error guarded(fault_injector* faults, point p, const std::string& who, F&& call) {
  const auto v = verdict_at(faults, p, who);
  if (v != fault_injector::verdict::none && v != fault_injector::verdict::crash_after)
    return injected_failure(p, who);
  error e = call();
  crash_if_after(v, p, who);
  return e;
}

// The group metadata a simulated consumer gives for send_offsets_to_transaction.
class sim_group_metadata final : public kafka::group_metadata {
 public:
  sim_group_metadata(std::string g, int gen, std::string m)
      : group(std::move(g)), generation(gen), member_id(std::move(m)) {}
  std::string group;
  int generation;
  std::string member_id;
};

// The clients of one instance (clients.cpp).
std::unique_ptr<kafka::client_factory> make_clients(std::shared_ptr<state> s,
                                                    fault_injector* faults, std::string who);
std::unique_ptr<kafka::admin> make_admin(std::shared_ptr<state> s);  // admin.cpp
std::unique_ptr<kafka::producer> make_producer(std::shared_ptr<state> s, fault_injector* faults,
                                               std::string who,
                                               const std::map<std::string, std::string>& props);

// The errors a real cluster gives, sorted as src/kafka sorts librdkafka's:
// A zombie member: its generation is stale (ILLEGAL_GENERATION); the task moved elsewhere.
inline error stale_generation(const std::string& what) {
  return {error::kind::task_migrated, 22, what};
}
// A producer whose epoch the coordinator bumped (a timed-out transaction), or any stale
// epoch as a partition leader sees it: INVALID_PRODUCER_EPOCH.
inline error invalid_epoch(const std::string& what) {
  return {error::kind::task_migrated, error::invalid_producer_epoch, what};
}
// A newer producer ran init_transactions with this transactional.id: PRODUCER_FENCED.
inline error producer_fenced(const std::string& what) {
  return {error::kind::producer_fenced, error::producer_fenced, what};
}

}  // namespace rill::sim
