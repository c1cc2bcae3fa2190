// The simulated cluster's producer: idempotent or transactional, with the fault injector
// around every instrumented call.
#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

namespace {

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
        if (error e = stale_epoch_locked(txn, false, "produce")) return e;
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
      txn.holder_epoch = txn.epoch;
      _epoch = txn.epoch;
      return {};
    });
  }

  error begin_transaction() override {
    return guarded(_faults, point::begin_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (error e = stale_epoch_locked(txn, true, "begin_transaction")) return e;
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
      if (error e = stale_epoch_locked(txn, true, "send_offsets_to_transaction")) return e;
      const auto& meta = dynamic_cast<const sim_group_metadata&>(gm);
      auto& g = _s->groups[meta.group];
      if (!g.members.contains(meta.member_id) || meta.generation != g.generation) {
        ++_s->stats.fenced_offset_commits;
        return stale_generation(fmt::format(
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
      if (error e = stale_epoch_locked(txn, true, "commit_transaction")) return e;
      _s->end_transaction(txn, true);
      return {};
    });
  }

  error abort_transaction(std::chrono::milliseconds) override {
    return guarded(_faults, point::abort_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      auto& txn = _s->transactional[_tid];
      if (txn.epoch != _epoch && _epoch == txn.holder_epoch) {
        // The coordinator timed the transaction out and bumped the epoch; the abort bumps it
        // again for this producer, which goes on with it (KIP-360).
        txn.holder_epoch = ++txn.epoch;
        _epoch = txn.epoch;
        return {};
      }
      if (error e = stale_epoch_locked(txn, true, "abort_transaction")) return e;
      if (txn.ongoing) _s->end_transaction(txn, false);
      return {};
    });
  }

 private:
  // What the cluster answers a call of this producer once its epoch is not the current one.
  // A partition leader (produce) knows only that the epoch is old: INVALID_PRODUCER_EPOCH.
  // The coordinator knows why: a newer producer took the transactional.id (PRODUCER_FENCED),
  // or it timed the transaction out and bumped the epoch itself (INVALID_PRODUCER_EPOCH).
  error stale_epoch_locked(const transactional_producer& txn, bool coordinator, const char* call) {
    if (txn.epoch == _epoch) return {};
    ++_s->stats.fenced_produces;
    if (coordinator && _epoch < txn.holder_epoch) {
      ++_s->stats.fenced_by_newer_producer;
      return producer_fenced(fmt::format(
          "{}: {} refused: producer fenced: a newer producer with transactional.id '{}' holds "
          "epoch {} (this one has {})",
          _who, call, _tid, txn.holder_epoch, _epoch));
    }
    return invalid_epoch(fmt::format("{}: {} refused: invalid producer epoch {} (current {})", _who,
                                     call, _epoch, txn.epoch));
  }

  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
  std::string _tid;
  std::int16_t _epoch = -1;
  std::int64_t _timeout_ms = 60000;
  std::uint64_t _round_robin = 0;
  std::map<topic_partition, std::int64_t> _delivered;
};

}  // namespace

std::unique_ptr<kafka::producer> make_producer(std::shared_ptr<state> s, fault_injector* faults,
                                               std::string who,
                                               const std::map<std::string, std::string>& props) {
  return std::make_unique<sim_producer>(std::move(s), faults, std::move(who), props);
}

}  // namespace rill::sim
