// The simulated cluster's clients: the consumer here, the producer in producer.cpp and the
// admin in admin.cpp, behind the interfaces of src/kafka/client.hpp, with the fault injector
// around every instrumented call.
#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

namespace {

// ---------------------------------------------------------------------------------------
class sim_consumer final : public kafka::consumer {
 public:
  sim_consumer(std::shared_ptr<state> s, fault_injector* faults, std::string who,
               const std::map<std::string, std::string>& props)
      : _s(std::move(s)), _faults(faults), _who(std::move(who)) {
    if (auto it = props.find("group.id"); it != props.end()) _group = it->second;
    if (auto it = props.find("isolation.level"); it != props.end())
      _read_committed = it->second == "read_committed";
    if (auto it = props.find("session.timeout.ms"); it != props.end())
      _session_timeout = std::stoll(it->second);
    if (auto it = props.find("max.poll.interval.ms"); it != props.end())
      _max_poll_interval = std::stoll(it->second);
    if (auto it = props.find("partition.assignment.strategy"); it != props.end())
      _cooperative = it->second.find("cooperative") != std::string::npos;
  }
  ~sim_consumer() override {
    // Dropping a consumer without close() is a crash: its membership lapses with its session.
  }

  error subscribe(const std::vector<std::string>& topics,
                  kafka::rebalance_listener& listener) override {
    std::lock_guard lock(_s->mutex);
    const auto& g = _s->groups[_group];
    if (!g.members.empty() && g.cooperative.value_or(false) != _cooperative) {
      // No protocol every member supports (librdkafka: INCONSISTENT_GROUP_PROTOCOL).
      return {error::kind::fatal, 23,
              fmt::format("{}: group '{}' runs the {} protocol; this consumer asks for {}", _who,
                          _group, _cooperative ? "eager" : "cooperative",
                          _cooperative ? "cooperative" : "eager")};
    }
    _listener = &listener;
    _topics = topics;
    join_locked();
    return {};
  }

  error assign(const std::vector<partition_offset>& positions) override {
    std::lock_guard lock(_s->mutex);
    _manual = true;
    _assignment.clear();
    _positions.clear();
    for (const auto& po : positions) {
      _assignment.push_back(po.tp);
      _positions[po.tp] = std::max<std::int64_t>(po.offset, 0);
    }
    return {};
  }

  error poll(std::chrono::milliseconds timeout, std::size_t max,
             std::vector<kafka::consumed_record>& out) override {
    error injected = guarded(_faults, point::poll, _who, [] { return error{}; });
    if (!_manual) run_group_protocol();
    std::unique_lock lock(_s->mutex);
    if (!_manual && _joined) {
      auto& g = _s->groups[_group];
      if (auto it = g.members.find(_member_id); it != g.members.end()) {
        it->second.last_seen = _s->clock;
        it->second.last_poll = _s->clock;
      }
    }
    if (injected) return injected;
    fetch_locked(max, out);
    if (out.empty() && timeout.count() > 0 && _s_blocking) {
      _s->data_arrived.wait_for(lock, timeout);
      fetch_locked(max, out);
    }
    return {};
  }

  error pause(const std::vector<topic_partition>& parts) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& tp : parts) _paused.insert(tp);
    return {};
  }
  error resume(const std::vector<topic_partition>& parts) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& tp : parts) _paused.erase(tp);
    return {};
  }
  error seek(const std::vector<partition_offset>& positions) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& po : positions) _positions[po.tp] = std::max<std::int64_t>(po.offset, 0);
    return {};
  }

  error commit(const std::vector<partition_offset>& offsets) override {
    return guarded(_faults, point::commit_offsets, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      heartbeat_locked();
      auto& g = _s->groups[_group];
      auto it = g.members.find(_member_id);
      if (it == g.members.end() || generation_locked() != g.generation) {
        ++_s->stats.fenced_offset_commits;
        return stale_generation(
            fmt::format("{}: commit refused: generation {} is stale (group at {})", _who,
                        generation_locked(), g.generation));
      }
      for (const auto& po : offsets) {
        g.committed[po.tp] = po.offset;
        g.metadata[po.tp] = po.metadata;
      }
      return {};
    });
  }

  error committed(std::vector<partition_offset>& inout, std::chrono::milliseconds) override {
    return guarded(_faults, point::committed_offsets, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      heartbeat_locked();
      auto& g = _s->groups[_group];
      for (auto& po : inout) {
        if (_read_committed && _s->unstable(_group, po.tp)) {
          return {error::kind::retriable, 88,
                  fmt::format("{}: offsets of {} are unstable (a transaction holding them is open)",
                              _who, po.tp.to_string())};
        }
      }
      for (auto& po : inout) {
        auto it = g.committed.find(po.tp);
        po.offset = it == g.committed.end() ? -1 : it->second;
        auto m = g.metadata.find(po.tp);
        po.metadata = m == g.metadata.end() ? std::string() : m->second;
      }
      return {};
    });
  }

  error end_offsets(std::vector<partition_offset>& inout, std::chrono::milliseconds) override {
    return guarded(_faults, point::end_offsets, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      for (auto& po : inout) {
        const partition_log& l = _s->log(po.tp);
        po.offset = _read_committed ? l.stable_end() : l.end();
      }
      return {};
    });
  }

  std::int64_t position(const topic_partition& tp) override {
    std::lock_guard lock(_s->mutex);
    auto it = _positions.find(tp);
    return it == _positions.end() ? -1 : it->second;
  }

  bool caught_up(const topic_partition& tp) override {
    std::lock_guard lock(_s->mutex);
    auto it = _positions.find(tp);
    if (it == _positions.end()) return false;
    const partition_log& l = _s->log(tp);
    return it->second >= (_read_committed ? l.stable_end() : l.end());
  }

  std::unique_ptr<kafka::group_metadata> metadata() override {
    std::lock_guard lock(_s->mutex);
    return std::make_unique<sim_group_metadata>(_group, generation_locked(), _member_id);
  }

  std::string member_id() override {
    std::lock_guard lock(_s->mutex);
    return _member_id;
  }

  void close() override {
    if (_closed) return;
    _closed = true;
    std::vector<topic_partition> revoked;
    {
      std::lock_guard lock(_s->mutex);
      if (_manual || !_joined) return;
      revoked = _assignment;
    }
    if (_listener != nullptr && !revoked.empty()) _listener->on_revoked(revoked);
    std::lock_guard lock(_s->mutex);
    auto& g = _s->groups[_group];
    g.members.erase(_member_id);
    if (g.preparing)
      _s->try_complete(_group);
    else
      _s->start_rebalance(_group);
    _assignment.clear();
    _joined = false;
  }

  static inline bool _s_blocking = false;

 private:
  // librdkafka heartbeats from a background thread while the application works between
  // polls; here, any call to the group keeps the session alive, but only poll() resets
  // max.poll.interval.ms.
  void heartbeat_locked() {
    if (_manual || !_joined) return;
    auto& g = _s->groups[_group];
    if (auto it = g.members.find(_member_id); it != g.members.end())
      it->second.last_seen = _s->clock;
  }

  // The generation this member's commits carry. librdkafka's group metadata takes a new
  // generation as soon as the member has it, before the application hears of the new
  // assignment; under the cooperative protocol the member keeps processing meanwhile, so its
  // commits carry the new one. A partition it is about to revoke is no one else's yet.
  int generation_locked() const {
    if (!_cooperative || !_joined) return _generation;
    const auto& members = _s->groups.at(_group).members;
    auto it = members.find(_member_id);
    return it == members.end() ? _generation : it->second.generation;
  }

  void join_locked() {
    _member_id = fmt::format("{}-member-{}", _who, _s->next_member++);
    member m;
    m.id = _member_id;
    m.topics = _topics;
    m.last_seen = _s->clock;
    m.session_timeout = _session_timeout;
    m.last_poll = _s->clock;
    m.max_poll_interval = _max_poll_interval;
    m.rejoined = true;  // nothing to revoke
    auto& g = _s->groups[_group];
    if (g.members.empty()) g.cooperative = _cooperative;
    const bool preparing = g.preparing;
    g.members[_member_id] = m;
    if (preparing)
      _s->try_complete(_group);
    else
      _s->start_rebalance(_group);
    _joined = true;
  }

  // The group protocol, synchronously. A member learns of a rebalance at a poll. Eager: it
  // revokes everything (the listener commits), then rejoins; it gets its new partitions at a
  // later poll, once every member has rejoined. Cooperative: it rejoins at once, keeping its
  // partitions; once every member has, it revokes at a poll those its new assignment lacks
  // and rejoins again, while another member gets them in the rebalance that follows. A member
  // evicted meanwhile notices only after a few polls (a zombie), then reports its partitions
  // lost and joins afresh. Callbacks run outside the lock.
  void run_group_protocol() {
    enum class action { none, revoke, lost };
    action todo = action::none;
    std::vector<topic_partition> partitions;
    {
      std::lock_guard lock(_s->mutex);
      if (!_joined) return;
      _s->expire(_group);
      auto& g = _s->groups[_group];
      auto it = g.members.find(_member_id);
      if (it == g.members.end()) {
        if (++_zombie_polls <= cluster::zombie_polls) return;  // has not heard yet: works on
        _zombie_polls = 0;
        todo = action::lost;
        partitions = _assignment;
      } else if (g.preparing && !it->second.rejoined && _cooperative) {
        it->second.rejoined = true;  // keeping its partitions (KIP-429)
        it->second.owned = _assignment;
        it->second.last_seen = _s->clock;
        _s->try_complete(_group);
      } else if (g.preparing && !it->second.rejoined) {
        todo = action::revoke;
        partitions = _assignment;
      }
    }
    if (todo == action::lost) {
      if (_listener != nullptr && !partitions.empty()) _listener->on_lost(partitions);
      std::lock_guard lock(_s->mutex);
      _assignment.clear();
      _positions.clear();
      _generation = -1;
      join_locked();
    } else if (todo == action::revoke) {
      // Commits in the listener still carry the current generation, which stays valid until
      // every member has rejoined.
      if (_listener != nullptr && !partitions.empty()) _listener->on_revoked(partitions);
      std::lock_guard lock(_s->mutex);
      _assignment.clear();
      _positions.clear();
      auto& g = _s->groups[_group];
      if (auto it = g.members.find(_member_id); it != g.members.end()) {
        it->second.rejoined = true;
        it->second.last_seen = _s->clock;
        _s->try_complete(_group);
      }
    }
    if (_cooperative)
      take_cooperative_assignment();
    else
      take_eager_assignment();
  }

  void take_eager_assignment() {
    std::vector<topic_partition> assigned;
    {
      std::lock_guard lock(_s->mutex);
      auto& g = _s->groups[_group];
      auto it = g.members.find(_member_id);
      if (it == g.members.end() || g.preparing || _generation == g.generation) return;
      _generation = g.generation;
      _assignment = it->second.assignment;
      _positions.clear();  // fetched from the committed offsets once they are stable
      _paused.clear();

      assigned = _assignment;
    }
    if (_listener != nullptr) _listener->on_assigned(assigned);
  }

  // The new generation's assignment, as differences (incremental): first the partitions it
  // lacks are revoked (their commits carry the new generation), then the new ones assigned.
  // Having revoked some, the member rejoins, so that they reach their new owner.
  void take_cooperative_assignment() {
    std::vector<topic_partition> next, revoked, added;
    {
      std::lock_guard lock(_s->mutex);
      auto& g = _s->groups[_group];
      auto it = g.members.find(_member_id);
      if (it == g.members.end() || g.preparing || _generation == it->second.generation) return;
      _generation = it->second.generation;
      next = it->second.assignment;
      auto in = [](const std::vector<topic_partition>& v, const topic_partition& tp) {
        return std::find(v.begin(), v.end(), tp) != v.end();
      };
      for (const auto& tp : _assignment) {
        if (in(next, tp)) {
          ++_s->stats.kept_through_rebalance;
        } else {
          revoked.push_back(tp);
          ++_s->stats.revoked_incrementally;
        }
      }
      for (const auto& tp : next)
        if (!in(_assignment, tp)) added.push_back(tp);
    }
    if (_listener != nullptr && !revoked.empty()) _listener->on_revoked(revoked);
    {
      std::lock_guard lock(_s->mutex);
      for (const auto& tp : revoked) {
        _positions.erase(tp);
        _paused.erase(tp);
      }
      _assignment = next;
      auto& g = _s->groups[_group];
      if (!revoked.empty() && g.members.contains(_member_id) && !g.preparing)
        _s->start_rebalance(_group);
    }
    if (_listener != nullptr) _listener->on_assigned(added);
  }

  void fetch_locked(std::size_t max, std::vector<kafka::consumed_record>& out) {
    for (const auto& tp : _assignment) {
      if (_paused.contains(tp)) continue;
      const partition_log& l = _s->log(tp);
      if (!_positions.contains(tp)) {
        if (_read_committed && _s->unstable(_group, tp)) continue;
        const auto& committed = _s->groups[_group].committed;
        auto c = committed.find(tp);
        _positions[tp] = c == committed.end() ? 0 : c->second;
      }
      std::int64_t& pos = _positions[tp];
      const std::int64_t end = _read_committed ? l.stable_end() : l.end();
      // The group's highest fetch so far; a group member fetching below it gets a replay.
      std::int64_t* fetched = _manual ? nullptr : &_s->groups[_group].fetched[tp];
      while (pos < end && out.size() < max) {
        const log_entry& e = l.entries[static_cast<std::size_t>(pos)];
        const std::int64_t offset = pos++;
        if (e.type != log_entry::kind::data) continue;
        if (_read_committed && l.is_aborted(offset, e.pid)) continue;
        if (fetched != nullptr && offset < *fetched) ++_s->stats.redelivered;
        if (fetched != nullptr) *fetched = std::max(*fetched, offset + 1);
        struct owned {
          std::optional<bytes> key;
          std::optional<bytes> value;
        };
        auto* o = new owned{e.key, e.value};
        kafka::consumed_record r;
        r.owner =
            kafka::consumed_record::owner_ptr(o, [](void* p) { delete static_cast<owned*>(p); });
        r.raw.topic = tp.topic;  // the task sets its own view; fine for readers that copy
        r.raw.partition = tp.partition;
        r.raw.offset = offset;
        r.raw.timestamp = e.timestamp;
        if (o->key) r.raw.key = bytes_view(*o->key);
        if (o->value) r.raw.value = bytes_view(*o->value);
        r.raw.headers = e.headers;
        out.push_back(std::move(r));
      }
    }
  }

  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
  std::string _group = "none";
  bool _read_committed = false;
  std::int64_t _session_timeout = 6000;
  std::int64_t _max_poll_interval = 300000;
  kafka::rebalance_listener* _listener = nullptr;
  std::vector<std::string> _topics;
  bool _cooperative = false;  // partition.assignment.strategy=cooperative-sticky
  bool _manual = false;
  bool _joined = false;
  bool _closed = false;
  std::string _member_id;
  int _zombie_polls = 0;
  int _generation = -1;
  std::vector<topic_partition> _assignment;
  std::map<topic_partition, std::int64_t> _positions;
  std::set<topic_partition> _paused;
};

class sim_factory final : public kafka::client_factory {
 public:
  sim_factory(std::shared_ptr<state> s, fault_injector* faults, std::string who)
      : _s(std::move(s)), _faults(faults), _who(std::move(who)) {}
  std::unique_ptr<kafka::consumer> make_consumer(
      const std::map<std::string, std::string>& props) override {
    return std::make_unique<sim_consumer>(_s, _faults, _who, props);
  }
  std::unique_ptr<kafka::producer> make_producer(
      const std::map<std::string, std::string>& props) override {
    return sim::make_producer(_s, _faults, _who, props);
  }
  std::unique_ptr<kafka::admin> make_admin(const std::map<std::string, std::string>&) override {
    return sim::make_admin(_s);
  }

 private:
  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
};

}  // namespace

std::unique_ptr<kafka::client_factory> make_clients(std::shared_ptr<state> s,
                                                    fault_injector* faults, std::string who) {
  return std::make_unique<sim_factory>(std::move(s), faults, std::move(who));
}

}  // namespace rill::sim
