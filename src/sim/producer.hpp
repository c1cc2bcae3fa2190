// The simulated cluster's producer (cluster.hpp), asynchronous as librdkafka's: send() only
// queues a record in its partition's batch; batches reach their leaders later, and what a
// leader refuses comes back as a delivery report. Private to src/sim: producer.cpp holds the
// transactional calls, producer_delivery.cpp the queue, the batches and their delivery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "src/sim/cluster_state.hpp"

namespace rill::sim {

// The client's side of the transaction state machine, as librdkafka keeps it: calls out of
// its order fail with RD_KAFKA_RESP_ERR__STATE, and after a fatal error every call repeats it.
// abortable: a record of the open transaction failed delivery (librdkafka's AbortableError):
// produce, send_offsets_to_transaction and commit_transaction fail; only an abort goes on.
enum class txn_state { uninitialized, ready, in_transaction, abortable, commit_unacked, fatal };

// One producer: idempotent (a producer id and a sequence per partition, so the leader refuses
// a retry it appended already) and, with a transactional.id, transactional.
//
// Lifecycle of a record: send() checks only what librdkafka checks at produce() (the topic,
// the transaction state), draws the injector's verdict for point::produce (once per record,
// in send order: the seed's schedule does not depend on batching), registers the partition
// with the transaction (AddPartitionsToTxn goes ahead of the records), and queues the record
// in its partition's batch. A batch goes to its leader when it holds batch.num.messages
// records (in that send), once linger.ms has passed on the cluster's logical clock (at the
// next send or poll), at flush, and before commit_transaction. There each record is checked
// in order (its epoch, then the verdict drawn at its send); a refusal is a delivery failure:
// returned by the next flush (the first since the last one) and, under a transaction, the
// producer turns abortable, so commit_transaction fails and the transaction must be aborted.
// Under a transaction nothing more is sent once it is abortable; abort_transaction purges
// what is queued. A producer destroyed (a crash) drops its queue: never appended.
//
// Threading: every call takes the cluster's mutex; one caller at a time, as the runtime's.
class sim_producer final : public kafka::producer {
 public:
  sim_producer(std::shared_ptr<state> s, fault_injector* faults, std::string who,
               const std::map<std::string, std::string>& props);

  error send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
             std::optional<bytes_view> value, const rill::headers& headers,
             timestamp_ms timestamp) override;
  error flush(std::chrono::milliseconds) override;
  void poll() override;
  std::optional<detail::record_offset> delivered_offset(const topic_partition& tp) const override;
  error partition_count(std::string_view topic, std::int32_t& n,
                        std::chrono::milliseconds) override;

  error init_transactions(std::chrono::milliseconds) override;
  error begin_transaction() override;
  error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                    const kafka::group_metadata& gm,
                                    std::chrono::milliseconds) override;
  error commit_transaction(std::chrono::milliseconds) override;
  error abort_transaction(std::chrono::milliseconds) override;

 private:
  // A record sent and not yet appended, with the verdict drawn for it at its send.
  struct queued {
    produced record;
    fault_injector::verdict verdict = fault_injector::verdict::none;
  };
  struct batch {
    const topic_partition* tp = nullptr;  // its key in _batches
    std::vector<queued> records;          // in send order
    std::int64_t opened = 0;              // the logical clock at its first record
  };

  // Delivery (producer_delivery.cpp).
  void deliver_due_locked();  // held records after a rebalance; batches past linger.ms
  void deliver_all_locked();  // every batch, then every held record (flush, commit)
  void deliver_batch_locked(batch& b);
  void deliver_held_locked();
  std::vector<queued> arrive_while_sendable_locked(std::vector<queued> records, bool were_held);
  void arrive_locked(queued q, bool was_held);
  error append_locked(produced& r);
  error lost_answer_locked(produced r);
  void delivery_failed_locked(const topic_partition& tp, error cause);
  bool may_send() const { return _tid.empty() || _state != txn_state::abortable; }
  void register_partition_locked(const topic_partition& tp);
  void purge_locked();

  // Transactions (producer.cpp).
  error commit_locked(fault_injector::verdict v);
  error abort_locked();
  void join_transaction_locked(transactional_producer& txn);
  error state_error(const char* call) const;
  error stale_epoch_locked(const transactional_producer& txn, bool coordinator, const char* call);

  std::shared_ptr<state> _s;
  fault_injector* _faults;
  std::string _who;
  std::string _tid;
  std::int64_t _producer_id = -1;
  std::int16_t _epoch = -1;
  std::int64_t _timeout_ms = 60000;
  std::size_t _batch_size = 8;  // batch.num.messages (librdkafka's default is 10 000)
  std::int64_t _linger_ms = 5;  // linger.ms (librdkafka's default)
  std::uint64_t _round_robin = 0;
  std::map<topic_partition, std::int64_t> _delivered;
  std::map<topic_partition, std::int64_t, tp_less> _sequences;  // the last sent per partition
  // Queued records per partition. An entry stays once its batch is delivered (empty until
  // the next record), so a send neither allocates nor frees its partition's name.
  std::map<topic_partition, batch, tp_less> _batches;
  std::vector<batch*> _open;  // the batches that have records, in no order
  std::vector<batch*> _due;   // deliver_due_locked's list, kept for its capacity
  txn_state _state = txn_state::uninitialized;
  error _fatal;
  error _delivery_error;  // the first delivery failure since the last flush
  error _abortable;       // why the transaction must be aborted (txn_state::abortable)
  bool _stalled = false;  // commits fail until the transaction is aborted
  std::uint64_t _lost = 0;
  transactional_producer* _txn = nullptr;  // this producer's entry in the cluster, once initialized
  // The partition the last record delivered in a transaction joined it as, and in which
  // transaction (transactional_producer::ended then): the next record of the run skips the
  // lookup.
  const topic_partition* _joined = nullptr;
  std::uint64_t _joined_ended = 0;
  std::vector<queued> _held;   // reached the leader, held back (verdict::late), in order
  std::uint64_t _held_at = 0;  // the cluster's rebalance count when the first was held
};

}  // namespace rill::sim
