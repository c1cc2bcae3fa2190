// The simulated cluster's producer: idempotent or transactional, with the fault injector
// around every instrumented call.
#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

namespace {

// The client's side of the transaction state machine, as librdkafka keeps it: calls out of
// its order fail with RD_KAFKA_RESP_ERR__STATE, and after a fatal error every call repeats it.
enum class txn_state { uninitialized, ready, in_transaction, commit_unacked, fatal };

const char* to_string(txn_state s) {
  switch (s) {
    case txn_state::uninitialized:
      return "uninitialized";
    case txn_state::ready:
      return "ready";
    case txn_state::in_transaction:
      return "in transaction";
    case txn_state::commit_unacked:
      return "commit not acknowledged";
    case txn_state::fatal:
      return "fatal error";
  }
  return "?";
}

// One producer: idempotent (a producer id and a sequence per partition, so the leader refuses
// a retry it appended already) and, with a transactional.id, transactional. Records are
// appended at send, except those the injector holds back (verdict::late), which wait in
// `_held` until the next flush, commit, or send after a rebalance.
class sim_producer final : public kafka::producer {
 public:
  sim_producer(std::shared_ptr<state> s, fault_injector* faults, std::string who,
               const std::map<std::string, std::string>& props)
      : _s(std::move(s)), _faults(faults), _who(std::move(who)) {
    if (auto it = props.find("transactional.id"); it != props.end()) _tid = it->second;
    if (auto it = props.find("transaction.timeout.ms"); it != props.end())
      _timeout_ms = std::stoll(it->second);
    std::lock_guard lock(_s->mutex);
    _producer_id = _s->next_pid++;  // idempotence; a transactional producer uses the txn's
  }

  error send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
             std::optional<bytes_view> value, const rill::headers& headers,
             timestamp_ms timestamp) override {
    const auto v = verdict_at(_faults, point::produce, _who);
    if (v == fault_injector::verdict::fail) return injected_failure(point::produce, _who);
    std::unique_lock lock(_s->mutex);
    topic_partition tp{std::string(topic), partition};
    auto t = _s->topics.find(tp.topic);
    if (t == _s->topics.end())
      return {error::kind::fatal, 3, fmt::format("unknown topic {}", topic)};
    if (tp.partition < 0)
      tp.partition = static_cast<std::int32_t>(_round_robin++ % t->second.size());
    if (!_tid.empty() && _state != txn_state::in_transaction) return state_error("produce");
    if (_s->stats.rebalances > _held_at) deliver_held_locked();
    produced r{tp, {}, _producer_id, ++_sequences[tp], _epoch};
    if (key) r.entry.key.emplace(key->begin(), key->end());
    if (value) r.entry.value.emplace(value->begin(), value->end());
    r.entry.headers = headers;
    r.entry.timestamp = timestamp;
    // Behind a held record of the partition, as the idempotent producer keeps order.
    const bool behind =
        std::any_of(_held.begin(), _held.end(), [&](const produced& h) { return h.tp == tp; });
    if (v == fault_injector::verdict::late || behind) {
      if (_held.empty()) _held_at = _s->stats.rebalances;
      _held.push_back(std::move(r));
      lock.unlock();
      crash_if_after(v, point::produce, _who);
      return {};
    }
    error e = append_locked(r);
    if (!e && v == fault_injector::verdict::lose_answer) e = lost_delivery_locked(std::move(r));
    lock.unlock();
    crash_if_after(v, point::produce, _who);
    return e;
  }

  error flush(std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    deliver_held_locked();
    return {};
  }
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
      if (_tid.empty()) return {error::kind::fatal, -145, "no transactional.id configured"};
      if (_state != txn_state::uninitialized) return state_error("init_transactions");
      auto [it, fresh] = _s->transactional.try_emplace(_tid);
      auto& txn = it->second;
      if (fresh) txn.pid = _s->next_pid++;
      if (txn.ongoing) _s->end_transaction(txn, false);  // what the previous holder left open
      txn.timeout_ms = _timeout_ms;
      ++txn.epoch;
      txn.holder_epoch = txn.epoch;
      _epoch = txn.epoch;
      _producer_id = txn.pid;
      _sequences.clear();
      _state = txn_state::ready;
      return {};
    });
  }

  // Local, as librdkafka's: the coordinator hears of the transaction at its first record or
  // offsets (AddPartitionsToTxn, AddOffsetsToTxn), and its timeout runs from then.
  error begin_transaction() override {
    return guarded(_faults, point::begin_transaction, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      if (_state != txn_state::ready) return state_error("begin_transaction");
      _state = txn_state::in_transaction;
      return {};
    });
  }

  error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                    const kafka::group_metadata& gm,
                                    std::chrono::milliseconds) override {
    return guarded(_faults, point::send_offsets, _who, [&]() -> error {
      std::lock_guard lock(_s->mutex);
      if (_state != txn_state::in_transaction) return state_error("send_offsets_to_transaction");
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
      join_transaction_locked(txn);
      auto& staged = txn.staged[meta.group];
      staged.insert(staged.end(), offsets.begin(), offsets.end());
      return {};
    });
  }

  error commit_transaction(std::chrono::milliseconds) override;
  error abort_transaction(std::chrono::milliseconds) override;

 private:
  error append_locked(produced& r);
  error lost_delivery_locked(produced r);
  void deliver_held_locked();
  error commit_locked(fault_injector::verdict v);
  error abort_locked();

  // The coordinator's side: the transaction starts at its first record or offsets.
  void join_transaction_locked(transactional_producer& txn) {
    if (txn.ongoing) return;
    txn.ongoing = true;
    txn.started = _s->clock;
  }

  // RD_KAFKA_RESP_ERR__STATE; after a fatal error, that error again.
  error state_error(const char* call) const {
    if (_state == txn_state::fatal) return _fatal;
    return {error::kind::fatal, error::bad_state,
            fmt::format("{}: {}: Operation not valid in state {}", _who, call, to_string(_state))};
  }

  // What the cluster answers a call of this producer once its epoch is not the current one.
  // A partition leader (produce) knows only that the epoch is old: INVALID_PRODUCER_EPOCH.
  // The coordinator knows why: a newer producer took the transactional.id (PRODUCER_FENCED,
  // fatal for the producer), or it timed the transaction out and bumped the epoch itself
  // (INVALID_PRODUCER_EPOCH).
  error stale_epoch_locked(const transactional_producer& txn, bool coordinator, const char* call) {
    if (txn.epoch == _epoch) return {};
    ++_s->stats.fenced_produces;
    if (coordinator && _epoch < txn.holder_epoch) {
      ++_s->stats.fenced_by_newer_producer;
      _state = txn_state::fatal;
      _fatal = producer_fenced(fmt::format(
          "{}: {} refused: producer fenced: a newer producer with transactional.id '{}' holds "
          "epoch {} (this one has {})",
          _who, call, _tid, txn.holder_epoch, _epoch));
      return _fatal;
    }
    return invalid_epoch(fmt::format("{}: {} refused: invalid producer epoch {} (current {})", _who,
                                     call, _epoch, txn.epoch));
  }

  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
  std::string _tid;
  std::int64_t _producer_id = -1;
  std::int16_t _epoch = -1;
  std::int64_t _timeout_ms = 60000;
  std::uint64_t _round_robin = 0;
  std::map<topic_partition, std::int64_t> _delivered;
  std::map<topic_partition, std::int64_t> _sequences;  // the last sent per partition
  txn_state _state = txn_state::uninitialized;
  error _fatal;
  bool _stalled = false;  // commits fail until the transaction is aborted
  std::uint64_t _lost = 0;
  std::vector<produced> _held;  // sent, not yet appended (verdict::late), in order
  std::uint64_t _held_at = 0;   // the cluster's rebalance count when the first was held
};

// A record reaching its leader: refused for an old epoch, or appended into the transaction.
error sim_producer::append_locked(produced& r) {
  if (!_tid.empty()) {
    auto& txn = _s->transactional[_tid];
    if (r.epoch != txn.epoch) {
      ++_s->stats.fenced_produces;
      return invalid_epoch(fmt::format(
          "{}: produce refused: invalid producer epoch {} (current {})", _who, r.epoch, txn.epoch));
    }
    join_transaction_locked(txn);
    txn.partitions.insert(r.tp);
    r.entry.pid = txn.pid;
  }
  const std::int64_t offset = _s->append(r);
  if (offset >= 0) _delivered[r.tp] = offset;
  return {};
}

// The leader appended the record but its answer was lost. The idempotent producer sends it
// again with the same sequence, and the leader refuses the duplicate: the caller sees success.
// Under a transaction, every other time, the producer gives up instead (message.timeout.ms):
// the record is in the transaction, the caller is told its delivery failed and must abort.
error sim_producer::lost_delivery_locked(produced r) {
  if (!_tid.empty() && _lost++ % 2 == 1) {
    ++_s->stats.timed_out_deliveries;
    return {error::kind::abortable, -192,
            fmt::format("{}: delivery to {} timed out (the record may be on the broker)", _who,
                        r.tp.to_string())};
  }
  return append_locked(r);  // refused by its sequence
}

// Held records reach their leaders now, in order, each checked as it arrives.
void sim_producer::deliver_held_locked() {
  for (auto& r : _held) {
    if (append_locked(r))
      ++_s->stats.late_refused;
    else
      ++_s->stats.late_appended;
  }
  _held.clear();
}

error sim_producer::commit_transaction(std::chrono::milliseconds) {
  // A stalled commit's retries are the one fault running its course: no new verdicts.
  const auto v = _stalled ? fault_injector::verdict::none
                          : verdict_at(_faults, point::commit_transaction, _who);
  if (v == fault_injector::verdict::fail) return injected_failure(point::commit_transaction, _who);
  std::unique_lock lock(_s->mutex);
  error e = commit_locked(v);
  lock.unlock();
  crash_if_after(v, point::commit_transaction, _who);
  return e;
}

error sim_producer::commit_locked(fault_injector::verdict v) {
  auto timed_out = [&](const char* what) -> error {
    return {error::kind::retriable, -185,
            fmt::format("{}: commit_transaction timed out ({})", _who, what)};
  };
  if (_state == txn_state::commit_unacked) {
    // A retry after a lost answer: the commit is done; idempotent, nothing is applied again.
    ++_s->stats.commits_found_done;
    _state = txn_state::ready;
    return {};
  }
  if (_state != txn_state::in_transaction) return state_error("commit_transaction");
  if (_stalled || v == fault_injector::verdict::stall) {
    _stalled = true;
    return timed_out("the coordinator does not answer");
  }
  deliver_held_locked();  // librdkafka flushes before it commits
  auto& txn = _s->transactional[_tid];
  if (error e = stale_epoch_locked(txn, true, "commit_transaction")) return e;
  if (txn.ongoing) _s->end_transaction(txn, true);  // nothing added: no EndTxn at all
  if (v == fault_injector::verdict::lose_answer) {
    _state = txn_state::commit_unacked;
    return timed_out("its outcome is unknown; it may be retried");
  }
  _state = txn_state::ready;
  return {};
}

error sim_producer::abort_transaction(std::chrono::milliseconds) {
  return guarded(_faults, point::abort_transaction, _who, [&]() -> error {
    std::lock_guard lock(_s->mutex);
    return abort_locked();
  });
}

error sim_producer::abort_locked() {
  if (_state != txn_state::in_transaction) return state_error("abort_transaction");
  if (_stalled) ++_s->stats.stalls_aborted;
  _stalled = false;
  _held.clear();  // purged, never sent
  auto& txn = _s->transactional[_tid];
  if (txn.epoch != _epoch && _epoch == txn.holder_epoch) {
    // The coordinator timed the transaction out and bumped the epoch; the abort bumps it
    // again for this producer, which goes on with it (KIP-360).
    txn.holder_epoch = ++txn.epoch;
    _epoch = txn.epoch;
    _state = txn_state::ready;
    return {};
  }
  if (error e = stale_epoch_locked(txn, true, "abort_transaction")) return e;
  if (txn.ongoing) _s->end_transaction(txn, false);
  _state = txn_state::ready;
  return {};
}

}  // namespace

std::unique_ptr<kafka::producer> make_producer(std::shared_ptr<state> s, fault_injector* faults,
                                               std::string who,
                                               const std::map<std::string, std::string>& props) {
  return std::make_unique<sim_producer>(std::move(s), faults, std::move(who), props);
}

}  // namespace rill::sim
