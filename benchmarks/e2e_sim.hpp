// The simulated cluster's harness (defined in e2e_sim.cpp), for the workload files that run
// on it besides e2e_sim.cpp itself (joins_sim.cpp): a run's cluster, Rill's stream thread
// stepped on this thread, the baseline's client calls, and best-of runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <rill/rill.hpp>

#include "e2e_common.hpp"
#include "src/kafka/client.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/sim/cluster.hpp"

namespace rill::runtime {
class task_manager;
}

namespace bench {

// A client call of a benchmark loop that fails breaks the benchmark: stop with the reason.
void must(const rill::kafka::error& e, const char* what);

rill::bytes to_bytes(const void* p, std::size_t n);
rill::bytes to_bytes(const std::string& s);

// One run's cluster: every workload starts on an empty one (records stay in memory).
struct sim_world {
  rill::sim::cluster cluster;
  std::map<std::string, std::int32_t> partitions;

  void create(const std::string& topic, std::int32_t n) {
    cluster.create_topic(topic, n);
    partitions[topic] = n;
  }
  // As a plain producer with Kafka's default partitioner would write it.
  void produce(const std::string& topic, const rill::bytes& key, const rill::bytes& value,
               rill::timestamp_ms ts = 0) {
    cluster.produce(topic,
                    rill::runtime::default_partition(rill::bytes_view(key), partitions.at(topic)),
                    key, value, ts);
  }
  // --clock records: 1 ms per 200 records processed, the rate Rill reaches on a broker
  // (embedded: about 200 k/s), so that commits (every commit.interval.ms) come as often
  // per record as they would there, at valgrind's speed as at full speed.
  static constexpr std::int64_t records_per_ms = 200;
  void follow_records(std::int64_t processed) {
    const std::int64_t ms = processed / records_per_ms - cluster.now();
    if (ms > 0) cluster.advance(ms);
  }
  // The cluster's logical clock follows real time, so sessions and transaction timeouts
  // behave as they would on a broker.
  void follow_real_time(std::int64_t& last_ns) {
    const std::int64_t now = now_ns();
    const std::int64_t ms = (now - last_ns) / 1'000'000;
    if (ms > 0) {
      cluster.advance(ms);
      last_ns += ms * 1'000'000;
    }
  }
};

// Runs the topology on one stream thread until `expected` records are processed (or, with
// `restored`, restored), then closes it; timed from the thread's start to its final commit.
// `check`, if given, looks at the thread's running tasks before it closes (after the timed
// part) and returns what is wrong, or "".
// Runs `check` on the tasks of a finished run (out of line: the yardstick leaves it out).
std::string check_output(const std::function<std::string(rill::runtime::task_manager&)>& check,
                         rill::runtime::task_manager& tasks);
side run_rill(sim_world& w, const rill::topology& t, const params& p, const std::string& app,
              long expected, std::uint64_t* restored = nullptr,
              const std::function<std::string(rill::runtime::task_manager&)>& check = {});

void send(rill::kafka::producer& prod, const std::string& topic, std::int32_t partition,
          const std::optional<rill::bytes_view>& key, const std::optional<rill::bytes_view>& value,
          rill::timestamp_ms ts);

// Each side p.repeat times on a fresh cluster, interleaved; the median run of each, with the
// spread of its runs (any wrong output fails the side).
void median_of(const params& p, row& r, const std::function<side()>& rill_side,
               const std::function<side()>& base_side);

// The joins on the simulated cluster (joins_sim.cpp).
row sim_w8(const params& p);
row sim_w9(const params& p);

}  // namespace bench
