// The simulated cluster's producer (producer.hpp): its transactional calls, with the fault
// injector around every instrumented one.
#include "src/sim/producer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

namespace rill::sim {

namespace {

const char* to_string(txn_state s) {
  switch (s) {
    case txn_state::uninitialized:
      return "uninitialized";
    case txn_state::ready:
      return "ready";
    case txn_state::in_transaction:
      return "in transaction";
    case txn_state::abortable:
      return "abortable error";
    case txn_state::commit_unacked:
      return "commit not acknowledged";
    case txn_state::fatal:
      return "fatal error";
  }
  return "?";
}

std::int64_t number_prop(const std::map<std::string, std::string>& props, const char* name,
                         std::int64_t fallback) {
  auto it = props.find(name);
  return it == props.end() ? fallback : std::stoll(it->second);
}

}  // namespace

sim_producer::sim_producer(std::shared_ptr<state> s, fault_injector* faults, std::string who,
                           const std::map<std::string, std::string>& props)
    : _s(std::move(s)), _faults(faults), _who(std::move(who)) {
  if (auto it = props.find("transactional.id"); it != props.end()) _tid = it->second;
  _timeout_ms = number_prop(props, "transaction.timeout.ms", _timeout_ms);
  _batch_size = static_cast<std::size_t>(
      std::max<std::int64_t>(1, number_prop(props, "batch.num.messages", 8)));
  _linger_ms = number_prop(props, "linger.ms", _linger_ms);
  std::lock_guard lock(_s->mutex);
  _producer_id = _s->next_pid++;  // idempotence; a transactional producer uses the txn's
}

std::optional<detail::record_offset> sim_producer::delivered_offset(
    const topic_partition& tp) const {
  auto it = _delivered.find(tp);
  if (it == _delivered.end()) return std::nullopt;
  return detail::record_offset{it->second};
}

error sim_producer::partition_count(std::string_view topic, std::int32_t& n,
                                    std::chrono::milliseconds) {
  std::lock_guard lock(_s->mutex);
  auto it = _s->topics.find(std::string(topic));
  if (it == _s->topics.end()) return {error::kind::fatal, error::unknown_topic, "unknown topic"};
  n = static_cast<std::int32_t>(it->second.size());
  return {};
}

error sim_producer::init_transactions(std::chrono::milliseconds) {
  return guarded(_faults, point::init_transactions, _who, [&]() -> error {
    std::lock_guard lock(_s->mutex);
    if (_tid.empty()) return {error::kind::fatal, -145, "no transactional.id configured"};
    if (_state != txn_state::uninitialized) return state_error("init_transactions");
    auto [it, fresh] = _s->transactional.try_emplace(_tid);
    auto& txn = it->second;
    _txn = &txn;  // entries are never erased
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
error sim_producer::begin_transaction() {
  return guarded(_faults, point::begin_transaction, _who, [&]() -> error {
    std::lock_guard lock(_s->mutex);
    if (_state != txn_state::ready) return state_error("begin_transaction");
    _state = txn_state::in_transaction;
    return {};
  });
}

error sim_producer::send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                                const kafka::group_metadata& gm,
                                                std::chrono::milliseconds) {
  return guarded(_faults, point::send_offsets, _who, [&]() -> error {
    std::lock_guard lock(_s->mutex);
    if (_state == txn_state::abortable) return _abortable;
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

// The coordinator's side: the transaction starts at its first record or offsets.
void sim_producer::join_transaction_locked(transactional_producer& txn) {
  if (txn.ongoing) return;
  txn.ongoing = true;
  txn.started = _s->clock;
}

// RD_KAFKA_RESP_ERR__STATE; after a fatal error, that error again.
error sim_producer::state_error(const char* call) const {
  if (_state == txn_state::fatal) return _fatal;
  return {error::kind::fatal, error::bad_state,
          fmt::format("{}: {}: Operation not valid in state {}", _who, call, to_string(_state))};
}

// What the cluster answers a call of this producer once its epoch is not the current one.
// A partition leader (produce) knows only that the epoch is old: INVALID_PRODUCER_EPOCH.
// The coordinator knows why: a newer producer took the transactional.id (PRODUCER_FENCED,
// fatal for the producer), or it timed the transaction out and bumped the epoch itself
// (INVALID_PRODUCER_EPOCH).
error sim_producer::stale_epoch_locked(const transactional_producer& txn, bool coordinator,
                                       const char* call) {
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

// librdkafka flushes before it commits, and refuses to commit a transaction a record of which
// failed delivery: the caller must abort it.
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
  // What failed delivery is reported here, as Rill's librdkafka producer does; the coordinator
  // first refuses a stale epoch, saying why.
  auto refuse = [&]() -> error {
    if (error e = stale_epoch_locked(_s->transactional[_tid], true, "commit_transaction")) return e;
    _delivery_error = {};
    return _abortable;
  };
  if (_state == txn_state::abortable) return refuse();
  if (_state != txn_state::in_transaction) return state_error("commit_transaction");
  if (_stalled || v == fault_injector::verdict::stall) {
    _stalled = true;
    return timed_out("the coordinator does not answer");
  }
  deliver_all_locked();
  if (_state == txn_state::abortable) return refuse();
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
  if (_state != txn_state::in_transaction && _state != txn_state::abortable)
    return state_error("abort_transaction");
  if (_stalled) ++_s->stats.stalls_aborted;
  _stalled = false;
  purge_locked();  // queued and held records: never sent
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

std::unique_ptr<kafka::producer> make_producer(std::shared_ptr<state> s, fault_injector* faults,
                                               std::string who,
                                               const std::map<std::string, std::string>& props) {
  return std::make_unique<sim_producer>(std::move(s), faults, std::move(who), props);
}

}  // namespace rill::sim
