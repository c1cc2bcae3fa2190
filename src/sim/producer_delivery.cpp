// The simulated cluster's producer (producer.hpp): the queue, the per-partition batches, and
// their delivery to the leaders, where a refusal becomes a delivery report.
#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "src/sim/producer.hpp"

namespace rill::sim {

error sim_producer::send(std::string_view topic, std::int32_t partition,
                         std::optional<bytes_view> key, std::optional<bytes_view> value,
                         const rill::headers& headers, timestamp_ms timestamp) {
  const auto v = verdict_at(_faults, point::produce, _who);  // crash_before throws here
  std::unique_lock lock(_s->mutex);
  deliver_due_locked();
  auto t = _s->topics.find(topic);
  if (t == _s->topics.end()) return {error::kind::fatal, 3, fmt::format("unknown topic {}", topic)};
  if (partition < 0) partition = static_cast<std::int32_t>(_round_robin++ % t->second.size());
  if (!_tid.empty() && _state == txn_state::abortable) return _abortable;
  if (!_tid.empty() && _state != txn_state::in_transaction) return state_error("produce");
  auto bt = _batches.find(tp_less::ref{topic, partition});
  if (bt == _batches.end()) {
    bt = _batches.emplace(topic_partition{std::string(topic), partition}, batch{}).first;
    bt->second.tp = &bt->first;
  }
  const topic_partition& tp = bt->first;
  batch& b = bt->second;
  if (b.records.empty()) {
    // A batch never outlives its transaction (commit delivers it, abort purges it), so its
    // first record registers the partition for all of them, as librdkafka adds a partition
    // to the transaction once, not per record.
    b.opened = _s->clock;
    _open.push_back(&b);
    register_partition_locked(tp);
  }
  auto seq = _sequences.find(tp);
  if (seq == _sequences.end()) seq = _sequences.emplace(tp, 0).first;
  produced r{&tp, {}, _producer_id, ++seq->second, _epoch};
  if (key) r.entry.key.emplace(key->begin(), key->end());
  if (value) r.entry.value.emplace(value->begin(), value->end());
  r.entry.headers = headers;
  r.entry.timestamp = timestamp;
  b.records.push_back({std::move(r), v});
  if (b.records.size() >= _batch_size) deliver_batch_locked(b);
  lock.unlock();
  crash_if_after(v, point::produce, _who);  // what it queued dies with it
  return {};
}

error sim_producer::flush(std::chrono::milliseconds) {
  std::lock_guard lock(_s->mutex);
  deliver_all_locked();
  error e = std::exchange(_delivery_error, error{});
  // Records an abortable transaction holds back are never delivered: flush would time out.
  if (!e && !may_send() && (!_open.empty() || !_held.empty())) e = _abortable;
  return e;
}

void sim_producer::poll() {
  std::lock_guard lock(_s->mutex);
  deliver_due_locked();
}

// The coordinator hears of a transaction's partition when its first record is queued
// (librdkafka sends AddPartitionsToTxn ahead of the records); the transaction's timeout runs
// from then. A producer with an old epoch is not heard: its records are refused at delivery.
void sim_producer::register_partition_locked(const topic_partition& tp) {
  if (_tid.empty()) return;
  auto& txn = *_txn;  // a transactional producer sends only once initialized
  if (txn.epoch != _epoch) return;
  join_transaction_locked(txn);
  txn.partitions.insert(tp);
}

void sim_producer::deliver_due_locked() {
  if (!_held.empty() && _s->stats.rebalances > _held_at) deliver_held_locked();
  _due.clear();
  for (batch* b : _open) {
    if (_s->clock - b->opened >= _linger_ms) _due.push_back(b);
  }
  // In partition order, as every delivery goes: the outcome of a run depends on its seed only.
  std::sort(_due.begin(), _due.end(),
            [](const batch* a, const batch* b) { return *a->tp < *b->tp; });
  for (batch* b : _due) deliver_batch_locked(*b);
}

// Every batch, then every held record: a record held as its batch arrives now goes too (a
// flush waits for all), after the records of its partition held before it.
void sim_producer::deliver_all_locked() {
  for (auto& [tp, b] : _batches)
    if (!b.records.empty()) deliver_batch_locked(b);
  deliver_held_locked();
}

// One batch reaches its leader: its records in order. Under a transaction nothing more goes
// once one failed (the producer is abortable); the rest stays queued until the abort. An
// emptied batch keeps its entry (a send then neither allocates nor frees its partition's
// name) and leaves the open ones.
void sim_producer::deliver_batch_locked(batch& b) {
  if (!may_send()) return;
  b.records = arrive_while_sendable_locked(std::move(b.records), false);
  if (b.records.empty()) std::erase(_open, &b);
}

// Held records reach their leaders now, in order (a rebalance, a flush or a commit came).
void sim_producer::deliver_held_locked() {
  if (_held.empty() || !may_send()) return;
  _held = arrive_while_sendable_locked(std::exchange(_held, {}), true);
}

// Records reach their leader in order while the producer may send; returns those left.
std::vector<sim_producer::queued> sim_producer::arrive_while_sendable_locked(
    std::vector<queued> records, bool were_held) {
  for (auto it = records.begin(); it != records.end(); ++it) {
    if (!may_send()) return {std::make_move_iterator(it), std::make_move_iterator(records.end())};
    arrive_locked(std::move(*it), were_held);
  }
  return {};
}

// A record at its leader. The verdict drawn at its send applies now: late holds it back (with
// every record of its partition behind it, as the idempotent producer keeps their order)
// until the producer's next flush or commit, or its next send or poll after a rebalance; fail
// refuses it; lose_answer appends it and loses the answer. The leader refuses an old epoch.
void sim_producer::arrive_locked(queued q, bool was_held) {
  using enum fault_injector::verdict;
  const topic_partition& tp = *q.record.tp;
  if (!was_held) {
    const bool behind = std::any_of(_held.begin(), _held.end(),
                                    [&](const queued& h) { return *h.record.tp == tp; });
    if (q.verdict == late || behind) {
      if (_held.empty()) _held_at = _s->stats.rebalances;
      _held.push_back(std::move(q));
      return;
    }
  }
  if (q.verdict == fail) {
    ++_s->stats.failed_deliveries;
    const bool transactional = !_tid.empty();
    delivery_failed_locked(
        tp, {transactional ? error::kind::abortable : error::kind::retriable, 19,
             fmt::format("{}: injected failure of produce (NOT_ENOUGH_REPLICAS)", _who)});
    return;
  }
  error e = append_locked(q.record);
  if (was_held) ++(e ? _s->stats.late_refused : _s->stats.late_appended);
  if (e) {
    if (!was_held) ++_s->stats.failed_deliveries;
    delivery_failed_locked(tp, std::move(e));
    return;
  }
  if (q.verdict == lose_answer) {
    if (error lost = lost_answer_locked(std::move(q.record))) delivery_failed_locked(tp, lost);
  }
}

// A record reaching its leader: refused for an old epoch, or appended into the transaction.
error sim_producer::append_locked(produced& r) {
  if (!_tid.empty()) {
    auto& txn = *_txn;  // a transactional producer sends only once initialized
    if (r.epoch != txn.epoch) {
      ++_s->stats.fenced_produces;
      return invalid_epoch(fmt::format(
          "{}: produce refused: invalid producer epoch {} (current {})", _who, r.epoch, txn.epoch));
    }
    join_transaction_locked(txn);
    // The records of a batch arrive together: look the partition up once per run of them.
    if (_joined_ended != txn.ended || _joined == nullptr || !(*_joined == *r.tp)) {
      _joined = &*txn.partitions.insert(*r.tp).first;
      _joined_ended = txn.ended;
    }
    r.entry.pid = txn.pid;
  }
  const std::int64_t offset = _s->append(r);
  if (offset >= 0) _delivered[*r.tp] = offset;
  return {};
}

// The leader appended the record but its answer was lost. The idempotent producer sends it
// again with the same sequence, and the leader refuses the duplicate: delivered after all.
// Under a transaction, every other time, the producer gives up instead (message.timeout.ms):
// the record is in the transaction, its delivery reported failed, and the caller must abort.
error sim_producer::lost_answer_locked(produced r) {
  if (!_tid.empty() && _lost++ % 2 == 1) {
    ++_s->stats.timed_out_deliveries;
    return {error::kind::abortable, -192,
            fmt::format("{}: delivery to {} timed out (the record may be on the broker)", _who,
                        r.tp->to_string())};
  }
  (void)append_locked(r);  // refused by its sequence (counted); its epoch was just accepted
  return {};
}

// A delivery report with an error: the first since the last flush is kept for it; under a
// transaction the producer turns abortable (librdkafka's AbortableError).
void sim_producer::delivery_failed_locked(const topic_partition& tp, error cause) {
  if (!_tid.empty() && _state == txn_state::in_transaction) {
    _state = txn_state::abortable;
    _abortable = {error::kind::abortable, cause.code(),
                  fmt::format("{}: the transaction must be aborted: delivery to {} failed: {}",
                              _who, tp.to_string(), cause.message())};
  }
  if (!_delivery_error) _delivery_error = std::move(cause);
}

// An abort: what is queued or held is purged, never sent, and its reports forgotten.
void sim_producer::purge_locked() {
  _batches.clear();
  _open.clear();
  _held.clear();
  _delivery_error = {};
  _abortable = {};
}

}  // namespace rill::sim
