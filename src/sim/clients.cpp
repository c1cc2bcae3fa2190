// The simulated cluster's clients: consumer, producer and admin behind the interfaces of
// src/kafka/client.hpp, with the fault injector around every instrumented call.
#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

namespace {

// Applies the injector's verdict around a call: crash before, do it and crash after, or fail.
template <class F>
error guarded(fault_injector* faults, point p, const std::string& who, F&& call) {
  auto v = faults ? faults->decide(p, who) : fault_injector::verdict::none;
  if (v == fault_injector::verdict::crash_before)
    throw crash(fmt::format("{}: crash before {}", who, to_string(p)));
  if (v == fault_injector::verdict::fail) {
    const bool abortable = p == point::produce || p == point::send_offsets ||
                           p == point::commit_transaction || p == point::begin_transaction;
    return {abortable ? error::kind::abortable : error::kind::retriable, 0,
            fmt::format("{}: injected failure of {}", who, to_string(p))};
  }
  error e = call();
  if (v == fault_injector::verdict::crash_after)
    throw crash(fmt::format("{}: crash after {}", who, to_string(p)));
  return e;
}

class sim_group_metadata final : public kafka::group_metadata {
 public:
  sim_group_metadata(std::string g, int gen, std::string m)
      : group(std::move(g)), generation(gen), member_id(std::move(m)) {}
  std::string group;
  int generation;
  std::string member_id;
};

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
  }
  ~sim_consumer() override {
    // Dropping a consumer without close() is a crash: its membership lapses with its session.
  }

  error subscribe(const std::vector<std::string>& topics,
                  kafka::rebalance_listener& listener) override {
    std::lock_guard lock(_s->mutex);
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
      if (auto it = g.members.find(_member_id); it != g.members.end())
        it->second.last_seen = _s->clock;
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
      auto& g = _s->groups[_group];
      auto it = g.members.find(_member_id);
      if (it == g.members.end() || _generation != g.generation) {
        ++_s->stats.fenced_offset_commits;
        return fenced(fmt::format("{}: commit refused: generation {} is stale (group at {})", _who,
                                  _generation, g.generation));
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
    return std::make_unique<sim_group_metadata>(_group, _generation, _member_id);
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
  void join_locked() {
    _member_id = fmt::format("{}-member-{}", _who, _s->next_member++);
    member m;
    m.id = _member_id;
    m.topics = _topics;
    m.last_seen = _s->clock;
    m.session_timeout = _session_timeout;
    m.rejoined = true;  // nothing to revoke
    auto& g = _s->groups[_group];
    const bool preparing = g.preparing;
    g.members[_member_id] = m;
    if (preparing)
      _s->try_complete(_group);
    else
      _s->start_rebalance(_group);
    _joined = true;
  }

  // The eager protocol, synchronously. A member learns of a rebalance at a poll: it revokes
  // everything (the listener commits), then rejoins; it gets its new partitions at a later
  // poll, once every member has rejoined. A member evicted meanwhile notices only after a few
  // polls (a zombie), then reports its partitions lost and joins afresh. Callbacks run outside
  // the lock.
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
  kafka::rebalance_listener* _listener = nullptr;
  std::vector<std::string> _topics;
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

// ---------------------------------------------------------------------------------------
class sim_producer final : public kafka::producer {
 public:
  sim_producer(std::shared_ptr<state> s, fault_injector* faults, std::string who,
               const std::map<std::string, std::string>& props)
      : _s(std::move(s)), _faults(faults), _who(std::move(who)) {
    if (auto it = props.find("transactional.id"); it != props.end()) _tid = it->second;
    if (auto it = props.find("transaction.timeout.ms"); it != props.end())
      _timeout_ms = std::stoll(it->second);
  }

  error send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
             std::optional<bytes_view> value, const rill::headers& headers,
             timestamp_ms timestamp) override {
    return guarded(_faults, point::produce, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      topic_partition tp{std::string(topic), partition};
      auto t = _s->topics.find(tp.topic);
      if (t == _s->topics.end())
        return {error::kind::fatal, 3, fmt::format("unknown topic {}", topic)};
      if (tp.partition < 0)
        tp.partition = static_cast<std::int32_t>(_round_robin++ % t->second.size());
      std::int64_t pid = -1;
      if (!_tid.empty()) {
        auto& txn = _s->transactional[_tid];
        if (txn.epoch != _epoch) {
          ++_s->stats.fenced_produces;
          return fenced(
              fmt::format("{}: producer fenced (epoch {} < {})", _who, _epoch, txn.epoch));
        }
        if (!txn.ongoing) return {error::kind::fatal, 48, "produce outside a transaction"};
        pid = txn.pid;
        txn.partitions.insert(tp);
      }
      partition_log& l = _s->log(tp);
      log_entry e;
      if (key) e.key.emplace(key->begin(), key->end());
      if (value) e.value.emplace(value->begin(), value->end());
      e.headers = headers;
      e.timestamp = timestamp;
      e.pid = pid;
      if (pid >= 0) l.open.try_emplace(pid, l.end());
      _delivered[tp] = l.end();
      l.entries.push_back(std::move(e));
      _s->data_arrived.notify_all();
      return {};
    });
  }

  error flush(std::chrono::milliseconds) override { return {}; }
  void poll() override {}

  std::optional<detail::record_offset> delivered_offset(const topic_partition& tp) const override {
    auto it = _delivered.find(tp);
    if (it == _delivered.end()) return std::nullopt;
    return detail::record_offset{it->second};
  }

  error partition_count(std::string_view topic, std::int32_t& n,
                        std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    auto it = _s->topics.find(std::string(topic));
    if (it == _s->topics.end()) return {error::kind::fatal, error::unknown_topic, "unknown topic"};
    n = static_cast<std::int32_t>(it->second.size());
    return {};
  }

  error init_transactions(std::chrono::milliseconds) override {
    return guarded(_faults, point::init_transactions, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto [it, fresh] = _s->transactional.try_emplace(_tid);
      auto& txn = it->second;
      if (fresh) txn.pid = _s->next_pid++;
      if (txn.ongoing) _s->end_transaction(txn, false);  // what the previous holder left open
      txn.timeout_ms = _timeout_ms;
      ++txn.epoch;
      _epoch = txn.epoch;
      return {};
    });
  }

  error begin_transaction() override {
    return guarded(_faults, point::begin_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (txn.epoch != _epoch) {
        ++_s->stats.fenced_produces;
        return fenced(fmt::format("{}: producer fenced", _who));
      }
      if (!txn.ongoing) txn.started = _s->clock;
      txn.ongoing = true;
      return {};
    });
  }

  error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                    const kafka::group_metadata& gm,
                                    std::chrono::milliseconds) override {
    return guarded(_faults, point::send_offsets, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (txn.epoch != _epoch) {
        ++_s->stats.fenced_produces;
        return fenced(fmt::format("{}: producer fenced", _who));
      }
      const auto& meta = dynamic_cast<const sim_group_metadata&>(gm);
      auto& g = _s->groups[meta.group];
      if (!g.members.contains(meta.member_id) || meta.generation != g.generation) {
        ++_s->stats.fenced_offset_commits;
        return fenced(fmt::format(
            "{}: transactional offset commit refused: generation {} is stale (group at {})", _who,
            meta.generation, g.generation));
      }
      auto& staged = txn.staged[meta.group];
      staged.insert(staged.end(), offsets.begin(), offsets.end());
      return {};
    });
  }

  error commit_transaction(std::chrono::milliseconds) override {
    return guarded(_faults, point::commit_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (txn.epoch != _epoch) {
        ++_s->stats.fenced_produces;
        return fenced(fmt::format("{}: producer fenced at commit", _who));
      }
      _s->end_transaction(txn, true);
      return {};
    });
  }

  error abort_transaction(std::chrono::milliseconds) override {
    return guarded(_faults, point::abort_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (txn.epoch != _epoch) return fenced(fmt::format("{}: producer fenced at abort", _who));
      if (txn.ongoing) _s->end_transaction(txn, false);
      return {};
    });
  }

 private:
  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
  std::string _tid;
  std::int16_t _epoch = -1;
  std::int64_t _timeout_ms = 60000;
  std::uint64_t _round_robin = 0;
  std::map<topic_partition, std::int64_t> _delivered;
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
    return std::make_unique<sim_producer>(_s, _faults, _who, props);
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
