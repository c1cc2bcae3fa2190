// What the embedded-broker workloads share (one file each: w1.cpp ... w6.cpp, latency.cpp):
// raw librdkafka helpers, the hand-written baseline loop, running Rill, topics per run, input
// and checks. Benchmark code, header-only; e2e_common.hpp has what the simulated cluster's
// suite shares too.
#pragma once

#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <rill/rill.hpp>

#include "e2e_common.hpp"
#include "src/kafka/fetch_waker.hpp"

namespace bench {

// --- raw librdkafka -----------------------------------------------------------------------

// --broker HOST:PORT --control HOST:PORT: a standalone rill-broker (its bootstrap.servers and
// broker.control) instead of this process's embedded one, so the process figures are the
// clients' alone. Empty: the embedded broker.
inline std::string external_bootstrap, external_control;

inline std::string bootstrap() {
  if (!external_bootstrap.empty()) return external_bootstrap;
  return rill::embedded_broker::shared().bootstrap_servers();
}

inline rd_kafka_conf_t* make_conf(const std::map<std::string, std::string>& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(fmt::format("{}={}: {}", k, v, err));
    }
  }
  return conf;
}

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

inline std::atomic<long> delivery_errors{0};

inline void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) ++delivery_errors;
}

inline rk_ptr make_producer(std::map<std::string, std::string> props = {}) {
  props.emplace("bootstrap.servers", bootstrap());
  props.emplace("enable.idempotence", "true");
  props.emplace("partitioner", "murmur2_random");
  props.emplace("socket.nagle.disable", "true");  // as Rill's producers
  rd_kafka_conf_t* conf = make_conf(props);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(err);
  return rk_ptr(rk);
}

// Sends one record, waiting while the local queue is full.
inline void produce(rd_kafka_t* p, const std::string& topic, std::int32_t partition,
                    const void* key, std::size_t key_len, const void* value, std::size_t value_len,
                    std::int64_t ts = 0) {
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(const_cast<void*>(key), key_len),
        RD_KAFKA_V_VALUE(const_cast<void*>(value), value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) throw std::runtime_error(rd_kafka_err2str(e));
    rd_kafka_poll(p, 10);
  }
}

inline void flush(rd_kafka_t* p) {
  if (rd_kafka_flush(p, 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
}

inline void create_topic(const std::string& t, int partitions) {
  if (external_bootstrap.empty())
    rill::embedded_broker::shared().create_topic(t, partitions);
  else
    rill::create_topic(external_bootstrap, t, partitions, {{"broker.control", external_control}});
}

// Reads every record of a topic, from the start to its current end, calling f on each.
inline void read_all(const std::string& topic, int partitions,
                     const std::function<void(const rd_kafka_message_t&)>& f) {
  rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap()},
                                     {"group.id", "bench-reader"},
                                     {"enable.partition.eof", "false"},
                                     {"enable.auto.commit", "false"}});
  char err[512];
  rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!c) throw std::runtime_error(err);
  std::vector<std::int64_t> ends(static_cast<std::size_t>(partitions));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  long remaining = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    if (rd_kafka_query_watermark_offsets(c.get(), topic.c_str(), p, &lo, &hi, 10'000))
      throw std::runtime_error("cannot read the end of " + topic);
    ends[static_cast<std::size_t>(p)] = hi;
    if (hi > lo) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = lo;
      remaining += 1;
    }
  }
  rd_kafka_assign(c.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<bool> done(static_cast<std::size_t>(partitions), false);
  const auto deadline = clock::now() + std::chrono::seconds(120);
  while (remaining > 0) {
    if (clock::now() > deadline) throw std::runtime_error("reading " + topic + " timed out");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.get(), 100);
    if (m == nullptr) continue;
    if (!m->err) {
      f(*m);
      auto p = static_cast<std::size_t>(m->partition);
      if (!done[p] && m->offset + 1 >= ends[p]) {
        done[p] = true;
        --remaining;
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c.get());
}

// --- the hand-written loop ----------------------------------------------------------------

// The consumer properties of every hand-written consumer (the baselines and the wire limit):
// those Rill sets (docs/config.md), so that a ratio to a baseline never comes from a setting
// Rill has and the baseline lacks.
inline std::map<std::string, std::string> consumer_props(const params& p,
                                                         const std::string& group) {
  std::map<std::string, std::string> props{
      {"bootstrap.servers", bootstrap()}, {"group.id", group},
      {"enable.auto.commit", "false"},    {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},  {"partition.assignment.strategy", "range"},
      {"session.timeout.ms", "6000"},     {"socket.nagle.disable", "true"},
  };
  if (p.fetch_wait_ms >= 0) props["fetch.wait.max.ms"] = std::to_string(p.fetch_wait_ms);
  return props;
}

// A group member subscribed to `inputs`; `assigned_at` gets the time of its first assignment.
inline rk_ptr group_consumer(const params& p, const std::string& group,
                             const std::vector<std::string>& inputs,
                             std::atomic<std::int64_t>& assigned_at) {
  rd_kafka_conf_t* conf = make_conf(consumer_props(p, group));
  rd_kafka_conf_set_opaque(conf, &assigned_at);
  rd_kafka_conf_set_rebalance_cb(conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                          rd_kafka_topic_partition_list_t* parts, void* op) {
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      rd_kafka_assign(rk, parts);
      auto* at = static_cast<std::atomic<std::int64_t>*>(op);
      std::int64_t zero = 0;
      at->compare_exchange_strong(zero, now_ns());
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  });
  char err[512];
  rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!c) throw std::runtime_error(err);
  rd_kafka_poll_set_consumer(c.get());
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(inputs.size()));
  for (const auto& input : inputs)
    rd_kafka_topic_partition_list_add(topics, input.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(c.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  return c;
}
inline rk_ptr group_consumer(const params& p, const std::string& group, const std::string& input,
                             std::atomic<std::int64_t>& assigned_at) {
  return group_consumer(p, group, std::vector<std::string>{input}, assigned_at);
}

// What Rill's consumer does against librdkafka 2.0's fetcher sleeping up to 1 s once its queue
// is full (src/kafka/fetch_waker.hpp): the hand-written consumers do it too, with librdkafka's
// default limits, before each batch.
class starving_guard {
 public:
  explicit starving_guard(bool on) : _on(on) {}
  void before_batch(rd_kafka_t* c, rd_kafka_queue_t* q) {
    if (!_on || !_waker.should_wake(rd_kafka_queue_length(q))) return;
    rd_kafka_topic_partition_list_t* list = nullptr;
    if (rd_kafka_assignment(c, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_END;
    if (list->cnt > 0) (void)rd_kafka_offsets_for_times(c, list, 1000);  // one round trip
    rd_kafka_topic_partition_list_destroy(list);
  }
  void after_batch(rd_kafka_message_t** batch, ssize_t n) {
    std::size_t bytes = 0;
    for (ssize_t i = 0; i < n; ++i) bytes += batch[i]->len;
    _waker.polled(static_cast<std::size_t>(std::max<ssize_t>(n, 0)), bytes);
  }

 private:
  bool _on;
  rill::kafka::fetch_waker _waker{100000, 65536 * 1024};
};

// The wire limit: one plain group member draining the input as fast as it can, touching
// each record's bytes and nothing more (no produce, no commit). Timed as the baselines
// are, from its assignment to its last record.
inline side run_wire(const params& p, const std::string& input, long expected) {
  std::atomic<std::int64_t> assigned_at{0};
  const double cpu0 = process_cpu_s();
  rk_ptr c = group_consumer(p, fmt::format("wire-{}", run_counter()), input, assigned_at);
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
  std::vector<rd_kafka_message_t*> batch(1000);
  long consumed = 0;
  std::uint64_t bytes = 0;
  ssize_t n = 0;
  const auto deadline = clock::now() + std::chrono::minutes(3);
  std::string trace;
  auto tick = clock::now();
  long at_tick = 0;
  starving_guard guard(p.wake);
  while (consumed < expected && clock::now() < deadline) {
    guard.before_batch(c.get(), q);
    n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
    guard.after_batch(batch.data(), n);
    if (p.trace && consumed > 0 && clock::now() - tick >= std::chrono::milliseconds(100)) {
      trace += fmt::format(" {}", (consumed - at_tick) / 1000);
      at_tick = consumed;
      tick = clock::now();
    }
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
      if (!m->err) {
        bytes += fnv(m->payload, std::min<std::size_t>(m->len, 8)) + m->key_len;
        ++consumed;
      }
      rd_kafka_message_destroy(m);
    }
  }
  side s;
  const std::int64_t end = now_ns();
  s.cpu_s = process_cpu_s() - cpu0;
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(c.get());
  if (p.trace) fmt::print("     trace (wire): k records per 100 ms:{}\n", trace);
  if (consumed < expected || bytes == 0)
    s.failure = fmt::format("read {} of {} records", consumed, expected);
  s.seconds = static_cast<double>(end - assigned_at.load()) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  return s;
}

// What a baseline loop does with each record and at each commit.
struct loop_work {
  std::function<void()> on_start;  // once the clock runs, e.g. open the RocksDB instances
  std::function<void(rd_kafka_t* producer, const rd_kafka_message_t& m)> record;
  std::function<void(rd_kafka_t* producer)> before_commit;  // e.g. write RocksDB batches
  std::function<void(rd_kafka_t* producer)> after_flush;
};

// Consume in batches → work → produce; every commit_ms flush the producer and commit the
// consumed offsets (at-least-once, as Rill does). Timed from assignment to the last commit.
inline side run_loop(const params& p, const std::string& input, long expected,
                     const loop_work& work, std::atomic<std::int64_t>* assigned = nullptr) {
  const std::string group = fmt::format("baseline-{}", run_counter());
  std::atomic<long> consumed{0};
  std::atomic<std::int64_t> own{0};
  std::atomic<std::int64_t>& assigned_at = assigned ? *assigned : own;
  std::once_flag started;
  const double rss0 = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  auto body = [&] {
    rk_ptr c = group_consumer(p, group, input, assigned_at);
    rk_ptr producer = make_producer();
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
    std::vector<rd_kafka_message_t*> batch(1000);
    std::map<std::int32_t, std::int64_t> positions;
    auto commit = [&] {
      if (work.before_commit) work.before_commit(producer.get());
      flush(producer.get());
      if (work.after_flush) work.after_flush(producer.get());
      if (positions.empty()) return;
      rd_kafka_topic_partition_list_t* offs =
          rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
      for (auto [part, off] : positions)
        rd_kafka_topic_partition_list_add(offs, input.c_str(), part)->offset = off;
      rd_kafka_commit(c.get(), offs, 0);
      rd_kafka_topic_partition_list_destroy(offs);
    };
    auto last_commit = clock::now();
    ssize_t n = 0;
    starving_guard guard(p.wake);
    while (consumed.load() < expected) {
      // Whatever is there at once while records flow; a short wait when none were.
      guard.before_batch(c.get(), q);
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      guard.after_batch(batch.data(), n);
      if (work.on_start && assigned_at.load() != 0) std::call_once(started, work.on_start);
      for (ssize_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
        if (!m->err) {
          work.record(producer.get(), *m);
          positions[m->partition] = m->offset + 1;
          ++consumed;
        }
        rd_kafka_message_destroy(m);
      }
      rd_kafka_poll(producer.get(), 0);
      if (clock::now() - last_commit >= std::chrono::milliseconds(p.commit_ms)) {
        commit();
        last_commit = clock::now();
      }
    }
    commit();
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c.get());
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < p.threads; ++t) threads.emplace_back(body);
  for (auto& t : threads) t.join();
  side s;
  const std::int64_t end = now_ns();
  s.cpu_s = process_cpu_s() - cpu0;
  s.seconds = static_cast<double>(end - assigned_at.load()) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  return s;
}

// --- Rill ---------------------------------------------------------------------------------

inline rill::config rill_config(const params& p, const std::string& app) {
  rill::config c{{"application.id", app},
                 {"bootstrap.servers", external_bootstrap.empty() ? "embedded" : bootstrap()},
                 {"processing.guarantee", p.guarantee},
                 {"commit.interval.ms", std::to_string(p.commit_ms)},
                 {"num.stream.threads", std::to_string(p.threads)},
                 {"state.dir", scratch_dir() + "/state"},
                 {"consumer.session.timeout.ms", "6000"},
                 {"log.level", "warn"}};
  if (!p.cache) c.set("statestore.cache.max.bytes", "0");
  if (!external_control.empty()) c.set("broker.control", external_control);
  if (p.fetch_wait_ms >= 0) c.set("consumer.fetch.wait.max.ms", std::to_string(p.fetch_wait_ms));
  if (p.max_task_idle_ms != 0) c.set("max.task.idle.ms", std::to_string(p.max_task_idle_ms));
  if (!p.metrics_level.empty()) c.set("metrics.recording.level", p.metrics_level);
  c.apply_environment();  // e.g. RILL_CONFIG_LOG_LEVEL=info
  return c;
}

// The moment the app's first partitions are assigned (its rebalance counter moves), where the
// baseline's clock starts too (its rebalance callback). Watched every 200 µs.
class assignment_clock {
 public:
  explicit assignment_clock(const rill::streams_app& a)
      : _watch([this, &a] {
          while (!_stop.load() && a.counters().rebalances == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          _at = now_ns();
        }) {}
  ~assignment_clock() { stop(); }
  std::int64_t at() {
    stop();
    return _at.load();
  }

 private:
  void stop() {
    _stop = true;
    if (_watch.joinable()) _watch.join();
  }
  std::atomic<bool> _stop{false};
  std::atomic<std::int64_t> _at{0};
  std::thread _watch;
};

// --trace on: what Rill's thread did during a run, printed after it: records processed per
// 100 ms from the first one, partition pauses, polls and time blocked in poll.
class run_trace {
 public:
  explicit run_trace(bool on) : _on(on) {}
  void sample(std::uint64_t processed) {
    if (!_on || (processed == 0 && _per_tick.empty())) return;
    const auto now = clock::now();
    if (_per_tick.empty()) _next = now;
    while (now >= _next) {
      _per_tick.push_back(processed - _last);
      _last = processed;
      _next += std::chrono::milliseconds(100);
    }
  }
  void print(const rill::streams_app& a) const {
    if (!_on) return;
    std::string line;
    for (auto n : _per_tick) line += fmt::format(" {}", n / 1000);
    double blocked_ns = 0, polls = 0, commit_avg = 0, commit_max = 0;
    for (const auto& m : a.metrics()) {
      if (m.group != "stream-thread-metrics") continue;
      if (m.name == "blocked-time-ns-total") blocked_ns += m.value;
      if (m.name == "poll-total") polls += m.value;
      if (m.name == "commit-latency-avg") commit_avg = std::max(commit_avg, m.value);
      if (m.name == "commit-latency-max") commit_max = std::max(commit_max, m.value);
    }
    fmt::print(
        "     trace: k records per 100 ms:{}\n     trace: pauses {}, polls {:.0f}, "
        "blocked in poll {:.2f} s (the group join included), commits {} (avg {:.1f} ms, "
        "max {:.1f} ms)\n",
        line, a.counters().pauses, polls, blocked_ns / 1e9, a.counters().commits, commit_avg,
        commit_max);
  }

 private:
  bool _on;
  std::vector<std::uint64_t> _per_tick;
  std::uint64_t _last = 0;
  clock::time_point _next;
};

// Runs the app until `expected` records are processed, then closes it (commit included).
inline side run_rill(rill::topology t, const params& p, const std::string& app, long expected,
                     const std::function<void(rill::streams_app&)>& before_start = {}) {
  rill::streams_app a(std::move(t), rill_config(p, app));
  if (before_start) before_start(a);
  const double rss0 = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  a.start();
  assignment_clock assigned(a);
  const auto deadline = clock::now() + std::chrono::minutes(3);
  run_trace trace(p.trace);
  while (a.counters().processed < static_cast<std::uint64_t>(expected)) {
    trace.sample(a.counters().processed);
    if (a.state() == rill::app_state::error || clock::now() > deadline) {
      side s;
      s.failure = fmt::format("stopped at {} of {} records ({})", a.counters().processed, expected,
                              to_string(a.state()));
      return s;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));  // polling a counter
  }
  trace.print(a);
  a.close();
  side s;
  s.cpu_s = process_cpu_s() - cpu0;
  s.seconds = static_cast<double>(now_ns() - assigned.at()) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  return s;
}

// --- W1: pass-through ---------------------------------------------------------------------

struct topics_of_run {
  std::string input, output, rill_output, app;
};

inline topics_of_run fresh(const std::string& id, int partitions) {
  const int n = run_counter();
  topics_of_run t;
  // A standalone broker outlives this process and keeps the last one's topics.
  t.app = external_bootstrap.empty() ? fmt::format("bench-{}-{}", id, n)
                                     : fmt::format("bench-{}-{}-{}", id, ::getpid(), n);
  t.input = t.app + "-in";
  t.output = t.app + "-base-out";
  t.rill_output = t.app + "-rill-out";
  if (partitions > 0) {
    create_topic(t.input, partitions);
    create_topic(t.output, partitions);
    create_topic(t.rill_output, partitions);
  }
  return t;
}

// The same input, new outputs and a new application id: another run of the same workload.
inline topics_of_run again(const topics_of_run& t, int partitions) {
  topics_of_run u = fresh("again", 0 /* no topics yet */);
  u.input = t.input;
  create_topic(u.output, partitions);
  create_topic(u.rill_output, partitions);
  return u;
}

// Runs each side p.repeat times, alternating, each run on new outputs of the same input;
// keeps the best correct run of each. With `wire` (W1, W3), the wire limit runs in turn too
// (unless --baseline off: Rill alone).
inline void best_of(const params& p, const topics_of_run& first, row& r,
                    const std::function<side(const topics_of_run&)>& rill_once,
                    const std::function<side(const topics_of_run&)>& base_once, bool wire = false) {
  std::optional<side> rill_best, base_best, wire_best;
  for (int k = 0; k < p.repeat; ++k) {
    const topics_of_run t = k == 0 ? first : again(first, p.partitions);
    if (wire && p.baseline) keep_best(wire_best, run_wire(p, t.input, p.records));
    if (p.rill) keep_best(rill_best, rill_once(t));
    if (p.baseline) keep_best(base_best, base_once(t));
  }
  r.rill = rill_best.value_or(side{});
  r.base = base_best;
  r.wire = wire_best;
}

// Keys "k<i % keys>", values of value_size bytes (the first 8 the record's number).
inline std::uint64_t preload_bytes(const params& p, const std::string& topic) {
  rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
  const std::uint64_t sum = generate_input(
      p.records, p.keys, p.value_size, [&](const std::string& key, const std::string& value) {
        produce(prod.get(), topic, RD_KAFKA_PARTITION_UA, key.data(), key.size(), value.data(),
                value.size());
      });
  flush(prod.get());
  return sum;
}

inline std::string check_copy(const std::string& topic, int partitions, long records,
                              std::uint64_t sum) {
  long n = 0;
  std::uint64_t got = 0;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    ++n;
    got += fnv(m.payload, m.len, fnv(m.key, m.key_len));
  });
  return copy_verdict(n, records, got, sum);
}

// The workloads, each in its own file.
row w1(const params& p);
row w1_metrics(const params& p);
void w1_latency(const params& given, row& r);
row w2(const params& p);
rill::topology count_topology(const std::string& in, const std::string& out);
row w3(const params& p, const std::string& id = "W3");
row w4(const params& p);
row w6(const params& p);
row w7_row(const params& p);
row w8_row(const params& p);
row w9_row(const params& p);

}  // namespace bench
