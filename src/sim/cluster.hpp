// The simulated cluster: a test tool, not a broker. It stands behind the same client
// interfaces as librdkafka (src/kafka/client.hpp) and has the Kafka semantics the embedded
// mock lacks, so exactly-once can be proven on it:
//
// - partition logs where transaction markers take offsets; the last stable offset; a
//   read_committed consumer sees neither open nor aborted transactions' records;
// - producer ids and epochs: init_transactions with a transactional.id bumps the epoch,
//   aborts what the previous holder left open, and fences it (its next call fails);
// - transactional offset commits (send_offsets_to_transaction) stored at commit, and
//   rejected when the group generation they carry is stale (KIP-447), which is how a zombie
//   stream thread is fenced under exactly-once v2;
// - consumer groups with generations, the eager protocol with the range assignor, or, for
//   consumers with partition.assignment.strategy=cooperative-sticky, the cooperative one
//   (KIP-429) with a sticky assignor; session timeouts and max.poll.interval.ms on a logical
//   clock;
// - a producer asynchronous as librdkafka's: send() only queues a record in its partition's
//   batch (failing at once only where librdkafka's produce() does: an unknown topic, a call
//   out of the transaction's order); a batch goes to its leader at batch.num.messages (the
//   sim's default is 8), once linger.ms has passed on the logical clock (at a send or poll),
//   at flush, and before commit_transaction. A record its leader refuses (an old epoch, an
//   injected failure) is a delivery failure: returned by the next flush and, under a
//   transaction, making commit_transaction fail abortably (producer.hpp);
// - a seeded fault injector that can make any instrumented call crash its caller or fail.
//
// Everything is single-threaded under one mutex, with no background thread: a producer's
// batches go only inside its own calls, a test steps its stream threads itself, and a run is
// deterministic for its seed. Records stay in memory forever (no retention, no compaction).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <rill/detail/node.hpp>

#include "src/kafka/client.hpp"

namespace rill::sim {

// Where the fault injector may strike. Client calls may crash their caller before or after
// the call, or fail it; the runtime's own points (reported through app_shared::fault_hook)
// only crash. docs/exactly-once.md lists what each verdict does at each point.
enum class point {
  produce,
  send_offsets,
  commit_transaction,
  abort_transaction,
  commit_offsets,  // the non-transactional offset commit (at-least-once)
  poll,
  init_transactions,  // once per producer: at start and after every rewind
  begin_transaction,
  committed_offsets,      // a consumer's committed-offset fetch (task start, rewind)
  end_offsets,            // a consumer's end-offset lookup (the restorer's changelog ends)
  state_commit,           // the runtime, before or after writing its stores
  between_state_commits,  // the runtime, after one task's store write and before the next's
  cache_flush,            // the runtime, between two entries of a record cache's flush
};
inline constexpr std::size_t point_count = static_cast<std::size_t>(point::cache_flush) + 1;
const char* to_string(point p);

// Thrown into the calling stream thread to kill it on the spot, as a crash would: the test
// harness catches it and tears the instance down without any clean-up.
class crash : public detail::runtime_abort {
 public:
  using runtime_abort::runtime_abort;
};

// Decides, deterministically from its seed, where faults happen. Probabilities are per call.
class fault_injector {
 public:
  struct settings {
    double crash = 0;         // probability a call crashes its caller (before or after the call)
    double fail = 0;          // probability a call fails with a retriable or abortable error
    std::vector<point> only;  // if not empty: the points faults may strike, no others
  };
  fault_injector(std::uint64_t seed, settings s) : _rng(seed), _settings(s) {}

  // fail: the call fails, with no effect. The ambiguous outcomes, at the points that have them
  // (a share of the failures drawn there): lose_answer: the call took effect but its answer
  // was lost (a commit_transaction: the caller sees a retriable timeout; a produce: the
  // idempotent producer's retry is refused as a duplicate by its sequence, or, under a
  // transaction, the delivery times out and the caller must abort); stall: a
  // commit_transaction fails retriably, and so does every retry until the transaction is
  // aborted; late: a produce is held and appended only at the producer's next flush, commit,
  // or send or poll after its group rebalanced, its epoch checked then.
  // A produce's verdict is drawn once per record, at send (so the schedule does not depend on
  // batching): crash_before and crash_after strike the caller there; fail, lose_answer and
  // late take effect when the record's batch reaches its leader, reported as deliveries.
  enum class verdict { none, crash_before, crash_after, fail, lose_answer, stall, late };
  // decide, enable and force may be called from several threads (a stream thread's restore
  // thread draws at its consumer's polls; the order of such draws is then the OS's).
  verdict decide(point p, const std::string& who);
  void enable(bool on) {
    std::lock_guard lock(_mutex);
    _enabled = on;
  }
  // For tests: the next verdicts at `p`, in order, before any drawn from the seed again
  // (counted as drawn ones are, even while disabled).
  void force(point p, std::vector<verdict> next);
  // What happened so far, for a failing seed's report.
  const std::vector<std::string>& schedule() const noexcept { return _schedule; }

  // The verdicts given at one point so far (crash before or after, and fail), of how many
  // calls while enabled.
  struct tally {
    std::uint64_t crashes = 0;
    std::uint64_t failures = 0;  // fail, lose_answer, stall and late verdicts together
    std::uint64_t calls = 0;
    std::uint64_t lost_answers = 0;
    std::uint64_t stalls = 0;
    std::uint64_t late = 0;
  };
  const tally& fired(point p) const { return _fired[static_cast<std::size_t>(p)]; }

 private:
  verdict record(point p, verdict v, const std::string& who);  // tallied and scheduled

  std::mutex _mutex;
  std::mt19937_64 _rng;
  settings _settings;
  bool _enabled = true;
  std::vector<std::string> _schedule;
  std::array<tally, point_count> _fired{};
  std::array<std::deque<verdict>, point_count> _forced{};
};

class cluster {
 public:
  struct counters {
    std::uint64_t fenced_produces = 0;  // produce/commit refused for an old epoch
    // Of those, coordinator calls refused because a newer producer ran init_transactions with
    // the same transactional.id (PRODUCER_FENCED; the rest: INVALID_PRODUCER_EPOCH).
    std::uint64_t fenced_by_newer_producer = 0;
    std::uint64_t fenced_offset_commits =
        0;  // (transactional) offset commits of a stale generation
    std::uint64_t aborted_transactions = 0;
    std::uint64_t timed_out_transactions =
        0;  // aborted by the coordinator (transaction.timeout.ms)

    std::uint64_t committed_transactions = 0;
    std::uint64_t rebalances = 0;
    // Of those, of cooperative groups; the partitions cooperative members went on holding
    // through a rebalance, and those they revoked while keeping the rest (KIP-429).
    std::uint64_t cooperative_rebalances = 0;
    std::uint64_t kept_through_rebalance = 0;
    std::uint64_t revoked_incrementally = 0;
    std::uint64_t evicted_members = 0;
    std::uint64_t evicted_for_not_polling = 0;  // of those: past max.poll.interval.ms
    // Records a group's consumers fetched again: below the highest offset any of them had
    // fetched from that partition before (replayed since the last offset commit).
    std::uint64_t redelivered = 0;
    // The ambiguous outcomes (fault_injector::verdict) and what became of them:
    std::uint64_t commits_found_done = 0;    // a commit retried after its answer was lost: done
    std::uint64_t duplicates_refused = 0;    // an idempotent retry refused by its sequence
    std::uint64_t timed_out_deliveries = 0;  // appended in a transaction, reported failed
    std::uint64_t stalls_aborted = 0;        // stalled commits the caller gave up and aborted
    std::uint64_t late_appended = 0;         // held produces appended later
    std::uint64_t late_refused = 0;          // held produces refused then for an old epoch
    // Records their leader refused when their batch arrived (an injected failure or an old
    // epoch), reported by the next flush or commit although send had returned success.
    std::uint64_t failed_deliveries = 0;
  };

  explicit cluster(std::shared_ptr<fault_injector> faults = nullptr);
  ~cluster();

  void create_topic(const std::string& name, std::int32_t partitions);
  std::int32_t partitions(const std::string& topic) const;
  // Grows an existing topic to `total` partitions (kafka-topics --alter --partitions); every
  // group with a member subscribed to it rebalances, as the members' metadata refresh would
  // make it on a real cluster.
  void add_partitions(const std::string& topic, std::int32_t total);

  // The logical clock, in milliseconds; it moves only with advance().
  std::int64_t now() const;
  void advance(std::int64_t ms);

  // Clients for one instance (`who` names it in fault reports).
  std::unique_ptr<kafka::client_factory> clients(const std::string& who);

  // Read_committed view of a partition (what a transactional reader sees), in order.
  struct record {
    std::optional<bytes> key;
    std::optional<bytes> value;
    rill::headers headers;
    timestamp_ms timestamp = 0;
    std::int64_t offset = 0;
  };
  std::vector<record> read_committed(const std::string& topic, std::int32_t partition) const;
  std::vector<record> read_committed(
      const std::string& topic) const;  // all partitions, by partition

  counters stats() const;
  fault_injector* faults() const noexcept { return _faults.get(); }

  // True when the group has committed past every data record of these topics and no
  // transaction is open anywhere: nothing is left to process or to decide.
  bool drained(const std::string& group, const std::vector<std::string>& topics) const;
  // Appends records as a plain (non-transactional) producer would: test input.
  void produce(const std::string& topic, std::int32_t partition, std::optional<bytes> key,
               std::optional<bytes> value, timestamp_ms timestamp);
  // A member evicted from its group keeps working this many polls before it notices, as a
  // real client does until a heartbeat tells it (so zombies get to try their commits).
  static constexpr int zombie_polls = 3;

  struct state;  // everything, behind the mutex (cluster.cpp)

 private:
  std::shared_ptr<state> _state;
  std::shared_ptr<fault_injector> _faults;
};

}  // namespace rill::sim
