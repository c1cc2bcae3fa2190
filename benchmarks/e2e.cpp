// End-to-end benchmarks: each workload runs as a Rill app and as a hand-written librdkafka
// loop (with RocksDB for state) doing the same job against the same embedded broker, in the
// same process run. Input is preloaded; the clock runs from the moment the partitions are
// assigned (the mock broker's group join, ~3 s, is the same fixed cost for both and is left
// out) until every input is processed and the output flushed and committed. The output is
// checked before a figure is printed: a fast wrong answer prints no figure.
//
//   bench_e2e all [--tsv FILE]                 the suite (docs: benchmarks/RESULTS.md)
//   bench_e2e W3 --records 1000000 --keys 1000 --cache off --partitions 32 --threads 1
//             --guarantee at_least_once --commit-ms 100 --value-size 100 --latency on
//   bench_e2e all --broker sim                 the suite on the simulated cluster (e2e_sim.cpp)
#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

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
#include <spdlog/spdlog.h>

#include <rill/rill.hpp>

#include "e2e_common.hpp"
#include "examples/bank/bank.hpp"
#include "examples/bank/scenario.hpp"

namespace bench {

// --- raw librdkafka -----------------------------------------------------------------------

std::string bootstrap() {
  return rill::embedded_broker::shared().bootstrap_servers();
}

rd_kafka_conf_t* make_conf(const std::map<std::string, std::string>& props) {
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

std::atomic<long> delivery_errors{0};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) ++delivery_errors;
}

rk_ptr make_producer(std::map<std::string, std::string> props = {}) {
  props.emplace("bootstrap.servers", bootstrap());
  props.emplace("enable.idempotence", "true");
  props.emplace("partitioner", "murmur2_random");
  rd_kafka_conf_t* conf = make_conf(props);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(err);
  return rk_ptr(rk);
}

// Sends one record, waiting while the local queue is full.
void produce(rd_kafka_t* p, const std::string& topic, std::int32_t partition, const void* key,
             std::size_t key_len, const void* value, std::size_t value_len, std::int64_t ts = 0) {
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

void flush(rd_kafka_t* p) {
  if (rd_kafka_flush(p, 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
}

void create_topic(const std::string& t, int partitions) {
  rill::embedded_broker::shared().create_topic(t, partitions);
}

// Reads every record of a topic, from the start to its current end, calling f on each.
void read_all(const std::string& topic, int partitions,
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

// What a baseline loop does with each record and at each commit.
struct loop_work {
  std::function<void()> on_start;  // once the clock runs, e.g. open the RocksDB instances
  std::function<void(rd_kafka_t* producer, const rd_kafka_message_t& m)> record;
  std::function<void(rd_kafka_t* producer)> before_commit;  // e.g. write RocksDB batches
  std::function<void(rd_kafka_t* producer)> after_flush;
};

// Consume in batches → work → produce; every commit_ms flush the producer and commit the
// consumed offsets (at-least-once, as Rill does). Timed from assignment to the last commit.
side run_loop(const params& p, const std::string& input, long expected, const loop_work& work,
              std::atomic<std::int64_t>* assigned = nullptr) {
  const std::string group = fmt::format("baseline-{}", run_counter());
  std::atomic<long> consumed{0};
  std::atomic<std::int64_t> own{0};
  std::atomic<std::int64_t>& assigned_at = assigned ? *assigned : own;
  std::once_flag started;
  const double rss0 = reset_peak_rss();
  auto body = [&] {
    rd_kafka_conf_t* conf = make_conf(
        {{"bootstrap.servers", bootstrap()},
         {"group.id", group},
         {"enable.auto.commit", "false"},
         {"auto.offset.reset", "earliest"},
         {"enable.partition.eof", "false"},
         {"partition.assignment.strategy", "range"},
         {"session.timeout.ms", "6000"},
         {"fetch.wait.max.ms", p.fetch_wait_ms >= 0 ? std::to_string(p.fetch_wait_ms) : "500"}});
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
    rk_ptr producer = make_producer();
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, input.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
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
    while (consumed.load() < expected) {
      // Whatever is there at once while records flow; a short wait when none were.
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
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
  s.seconds = static_cast<double>(end - assigned_at.load()) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  return s;
}

// --- Rill ---------------------------------------------------------------------------------

rill::config rill_config(const params& p, const std::string& app) {
  rill::config c{{"application.id", app},
                 {"bootstrap.servers", "embedded"},
                 {"processing.guarantee", p.guarantee},
                 {"commit.interval.ms", std::to_string(p.commit_ms)},
                 {"num.stream.threads", std::to_string(p.threads)},
                 {"state.dir", scratch_dir() + "/state"},
                 {"consumer.session.timeout.ms", "6000"},
                 {"log.level", "warn"}};
  if (!p.cache) c.set("statestore.cache.max.bytes", "0");
  if (p.fetch_wait_ms >= 0) c.set("consumer.fetch.wait.max.ms", std::to_string(p.fetch_wait_ms));
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

// Runs the app until `expected` records are processed, then closes it (commit included).
side run_rill(rill::topology t, const params& p, const std::string& app, long expected,
              const std::function<void(rill::streams_app&)>& before_start = {}) {
  rill::streams_app a(std::move(t), rill_config(p, app));
  if (before_start) before_start(a);
  const double rss0 = reset_peak_rss();
  a.start();
  assignment_clock assigned(a);
  const auto deadline = clock::now() + std::chrono::minutes(3);
  while (a.counters().processed < static_cast<std::uint64_t>(expected)) {
    if (a.state() == rill::app_state::error || clock::now() > deadline) {
      side s;
      s.failure = fmt::format("stopped at {} of {} records ({})", a.counters().processed, expected,
                              to_string(a.state()));
      return s;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));  // polling a counter
  }
  a.close();
  side s;
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

topics_of_run fresh(const std::string& id, int partitions) {
  const int n = run_counter();
  topics_of_run t;
  t.app = fmt::format("bench-{}-{}", id, n);
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
topics_of_run again(const topics_of_run& t, int partitions) {
  topics_of_run u = fresh("again", 0 /* no topics yet */);
  u.input = t.input;
  create_topic(u.output, partitions);
  create_topic(u.rill_output, partitions);
  return u;
}

// Runs each side p.repeat times, alternating, each run on new outputs of the same input;
// keeps the best correct run of each.
void best_of(const params& p, const topics_of_run& first, row& r,
             const std::function<side(const topics_of_run&)>& rill_once,
             const std::function<side(const topics_of_run&)>& base_once) {
  std::optional<side> rill_best, base_best;
  for (int k = 0; k < p.repeat; ++k) {
    const topics_of_run t = k == 0 ? first : again(first, p.partitions);
    keep_best(rill_best, rill_once(t));
    if (p.baseline) keep_best(base_best, base_once(t));
  }
  r.rill = *rill_best;
  r.base = base_best;
}

// Keys "k<i % keys>", values of value_size bytes (the first 8 the record's number).
std::uint64_t preload_bytes(const params& p, const std::string& topic) {
  rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
  const std::uint64_t sum = generate_input(
      p.records, p.keys, p.value_size, [&](const std::string& key, const std::string& value) {
        produce(prod.get(), topic, RD_KAFKA_PARTITION_UA, key.data(), key.size(), value.data(),
                value.size());
      });
  flush(prod.get());
  return sum;
}

std::string check_copy(const std::string& topic, int partitions, long records, std::uint64_t sum) {
  long n = 0;
  std::uint64_t got = 0;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    ++n;
    got += fnv(m.payload, m.len, fnv(m.key, m.key_len));
  });
  return copy_verdict(n, records, got, sum);
}

row w1(const params& p) {
  row r{"W1", fmt::format("pass-through, {} B values, {} records, {}", p.value_size, p.records,
                          p.guarantee)};
  r.target = ">= 0.90";
  r.label = "W1 pass-through";
  auto t0 = fresh("w1", p.partitions);
  const std::uint64_t sum = preload_bytes(p, t0.input);
  best_of(
      p, t0, r,
      [&](const topics_of_run& t) {
        rill::streams_builder b;
        b.stream<rill::bytes, rill::bytes>(t.input).to(t.rill_output);
        side s = run_rill(b.build(), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_copy(t.rill_output, p.partitions, p.records, sum);
        return s;
      },
      [&](const topics_of_run& t) {
        loop_work work;
        const std::string out = t.output;
        work.record = [out](rd_kafka_t* prod, const rd_kafka_message_t& m) {
          produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, m.payload, m.len,
                  rd_kafka_message_timestamp(&m, nullptr));
        };
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_copy(t.output, p.partitions, p.records, sum);
        return s;
      });
  return r;
}

// --- W2: filter + map on JSON -------------------------------------------------------------

std::string check_summaries(const std::string& topic, int partitions, long want) {
  summary_check check;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    check.add(rill::bytes_view(static_cast<const std::byte*>(m.payload), m.len), topic);
  });
  return check.verdict(want);
}

row w2(const params& p) {
  row r{"W2", fmt::format("filter + map on JSON orders (struct serde), {} records", p.records)};
  r.target = ">= 0.85";
  r.label = "W2 JSON filter+map";
  auto t = fresh("w2", p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}});
    auto serde = rill::default_serde<order>();
    rill::bytes buf;
    for (long i = 0; i < p.records; ++i) {
      order o = make_order(i);
      serde.encode(o, buf, {t.input, false, nullptr});
      produce(prod.get(), t.input, RD_KAFKA_PARTITION_UA, o.id.data(), o.id.size(), buf.data(),
              buf.size());
    }
    flush(prod.get());
  }
  long want = 0;
  for (long i = 0; i < p.records; ++i) want += i % 10 < 7 ? 1 : 0;
  best_of(
      p, t, r,
      [&](const topics_of_run& t) {
        rill::streams_builder b;
        b.stream<std::string, order>(t.input)
            .filter([](const std::string&, const order& o) { return o.status == "paid"; })
            .map_values([](const order& o) { return summarize(o); })
            .to(t.rill_output);
        side s = run_rill(b.build(), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_summaries(t.rill_output, p.partitions, want);
        return s;
      },
      [&](const topics_of_run& t) {
        loop_work work;
        auto in_serde = std::make_shared<rill::any_serde<order>>(rill::default_serde<order>());
        auto out_serde =
            std::make_shared<rill::any_serde<order_summary>>(rill::default_serde<order_summary>());
        auto buf = std::make_shared<rill::bytes>();
        const std::string in = t.input, out = t.output;
        work.record = [=](rd_kafka_t* prod, const rd_kafka_message_t& m) {
          rill::bytes_view v(static_cast<const std::byte*>(m.payload), m.len);
          order o = in_serde->decode(&v, {in, false, nullptr});
          if (o.status != "paid") return;
          out_serde->encode(summarize(o), *buf, {out, false, nullptr});
          produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, buf->data(), buf->size(),
                  rd_kafka_message_timestamp(&m, nullptr));
        };
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_summaries(t.output, p.partitions, want);
        return s;
      });
  r.baseline_name = "librdkafka loop, same JSON serde";
  return r;
}

// --- W3: keyed count on RocksDB with a changelog ------------------------------------------

// The expected final count per key.
std::string check_counts(const std::string& topic, int partitions, const params& p) {
  std::unordered_map<std::string, std::int64_t> last;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    if (m.len != 8) return;
    last[std::string(static_cast<const char*>(m.key), m.key_len)] = from_be64(m.payload);
  });
  return count_verdict(last, p);
}

rill::topology count_topology(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, rill::bytes>(in)
      .group_by_key()
      .count(rill::named("counts"))
      .to_stream()
      .to(out);
  return b.build();
}

// The counting state of count_state (e2e_common.hpp); every update (cache off) or every dirty
// key per commit (cache on) goes to the changelog and the output.
loop_work count_work(const params& p, const topics_of_run& t,
                     std::vector<std::unique_ptr<count_state>>& parts) {
  const std::string changelog = t.app + "-base-changelog";
  create_topic(changelog, p.partitions);
  const bool cache = p.cache;
  const std::string out = t.output;
  loop_work w;
  // Timed, as Rill's tasks open their stores after the assignment too.
  w.on_start = [&parts, root = scratch_dir() + "/" + t.app, n = p.partitions] {
    parts = open_count_states(root, n);
  };
  auto emit = [changelog, out](rd_kafka_t* prod, std::int32_t part, const std::string& key,
                               std::int64_t count) {
    const std::string v = be64(count);
    produce(prod, changelog, part, key.data(), key.size(), v.data(), v.size());
    produce(prod, out, part, key.data(), key.size(), v.data(), v.size());
  };
  w.record = [&parts, cache, emit](rd_kafka_t* prod, const rd_kafka_message_t& m) {
    count_state& st = *parts[static_cast<std::size_t>(m.partition)];
    std::string key(static_cast<const char*>(m.key), m.key_len);
    const std::int64_t count = st.bump(key);
    if (!cache) emit(prod, m.partition, key, count);
  };
  w.before_commit = [&parts, cache, emit](rd_kafka_t* prod) {
    if (!cache) return;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      for (const auto& [k, c] : parts[i]->pending) emit(prod, static_cast<std::int32_t>(i), k, c);
    }
  };
  w.after_flush = [&parts](rd_kafka_t*) { write_pending_counts(parts); };
  return w;
}

row w3(const params& p, const std::string& id = "W3") {
  row r{id, fmt::format("count by key on RocksDB + changelog, {} keys, cache {}, {} records, {}{}",
                        p.keys, p.cache ? "on" : "off", p.records, p.guarantee,
                        p.guarantee == "at_least_once" ? "" : fmt::format(" @{} ms", p.commit_ms))};
  r.target = p.cache ? "" : ">= 0.70";
  r.label = fmt::format("W3 {} keys, cache {}", p.keys >= 1'000'000 ? "1M" : std::to_string(p.keys),
                        p.cache ? "on" : "off");
  auto t = fresh("w3", p.partitions);
  preload_bytes(params{p.workload, p.records, p.keys, 8, p.partitions}, t.input);
  best_of(
      p, t, r,
      [&](const topics_of_run& t) {
        side s = run_rill(count_topology(t.input, t.rill_output), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_counts(t.rill_output, p.partitions, p);
        return s;
      },
      [&](const topics_of_run& t) {
        std::vector<std::unique_ptr<count_state>> parts;
        loop_work work = count_work(p, t, parts);
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_counts(t.output, p.partitions, p);
        return s;
      });
  r.baseline_name = "librdkafka loop + RocksDB WriteBatch";
  return r;
}

// --- W4: the bank -------------------------------------------------------------------------

row w4(const params& p) {
  row r{"W4",
        fmt::format("the bank's command processing, {} commands, {} accounts", p.records, p.keys)};
  r.target = "report";
  r.label = "W4 bank";
  const int n = run_counter();
  bank::topics topics{fmt::format("bench{}-", n)};
  create_topic(topics.commands(), p.partitions);
  create_topic(topics.events(), p.partitions);
  create_topic(topics.balances(), p.partitions);
  const auto commands =
      bank::generate(static_cast<std::size_t>(p.records), static_cast<std::size_t>(p.keys));
  {
    rill::topic_writer<std::string, bank::command> w("embedded");
    for (const auto& c : commands) w.send(topics.commands(), c.account, c);
    w.flush(std::chrono::seconds(60));
  }
  // Transfers come back through the feedback topic, so the count of processed records says
  // little: the clock stops when the outputs show every command answered and money conserved
  // (read as they arrive, checked every 100 ms).
  rill::streams_app a(bank::topology(topics), rill_config(p, fmt::format("bench-bank-{}", n)));
  const double rss0 = reset_peak_rss();
  a.start();
  assignment_clock assigned(a);
  rill::topic_reader<std::string, bank::event> events("embedded", topics.events());
  rill::topic_reader<std::string, std::optional<std::int64_t>> balances("embedded",
                                                                        topics.balances());
  bank::outputs o;
  bank::check_result check;
  const auto deadline = clock::now() + std::chrono::minutes(3);
  std::int64_t done_at = 0;
  while (clock::now() < deadline && a.state() != rill::app_state::error) {
    for (auto& e : events.read(100000, std::chrono::milliseconds(100)))
      o.events.push_back(std::move(e));
    for (auto& b : balances.read(100000, std::chrono::milliseconds(10)))
      o.balances.push_back(std::move(b));
    check = bank::check(commands, o);
    if (check.ok()) {
      done_at = now_ns();
      break;
    }
  }
  a.close();
  r.rill.seconds = static_cast<double>(done_at - assigned.at()) / 1e9;
  r.rill.records_per_s = static_cast<double>(commands.size()) / r.rill.seconds;
  r.rill.peak_rss_mb = status_mb("VmHWM:");
  r.rill.rss_growth_mb = r.rill.peak_rss_mb - rss0;
  if (!check.ok()) r.rill.failure = check.summary();
  r.baseline_name = "";
  return r;
}

// --- W6: restore ----------------------------------------------------------------------------

struct restore_timer final : rill::restore_listener {
  std::atomic<std::int64_t> first{0};
  std::atomic<std::int64_t> last{0};
  void on_restore_start(const rill::task_id&, std::string_view, std::int64_t,
                        std::int64_t) override {
    std::int64_t zero = 0;
    first.compare_exchange_strong(zero, now_ns());
  }
  void on_restore_end(const rill::task_id&, std::string_view, std::uint64_t) override {
    last = now_ns();
  }
};

row w6(const params& p) {
  row r{"W6", fmt::format("restore a {}-entry store from its changelog", p.records)};
  r.target = ">= 0.75";
  r.label = "W6 restore 1M";
  r.baseline_name = "consume → RocksDB WriteBatch loop";
  auto t = fresh("w6", p.partitions);
  const std::string changelog = t.app + "-counts-changelog";
  create_topic(changelog, p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
    for (long i = 0; i < p.records; ++i) {
      const std::string key = "k" + std::to_string(i);
      const std::string v = be64(1 + i % 7);
      produce(prod.get(), changelog, RD_KAFKA_PARTITION_UA, key.data(), key.size(), v.data(),
              v.size());
    }
    flush(prod.get());
  }
  // Rill: the count app starts on an empty state directory and restores every task's store.
  {
    auto timer = std::make_shared<restore_timer>();
    rill::streams_app a(count_topology(t.input, t.rill_output), rill_config(p, t.app));
    a.set_restore_listener(timer);
    const double rss0 = reset_peak_rss();
    a.start();
    if (!a.wait_until_running(std::chrono::minutes(3))) r.rill.failure = "never ran";
    r.rill.seconds = static_cast<double>(timer->last - timer->first) / 1e9;
    r.rill.records_per_s = static_cast<double>(p.records) / r.rill.seconds;
    r.rill.peak_rss_mb = status_mb("VmHWM:");
    r.rill.rss_growth_mb = r.rill.peak_rss_mb - rss0;
    if (a.counters().restored != static_cast<std::uint64_t>(p.records))
      r.rill.failure = fmt::format("restored {} of {}", a.counters().restored, p.records);
    a.close();
  }
  // Baseline: read every partition to its end, a WriteBatch per 10 000 records, WAL off.
  {
    const double rss0 = reset_peak_rss();
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap()},
                                       {"group.id", t.app + "-restorer"},
                                       {"enable.partition.eof", "false"},
                                       {"enable.auto.commit", "false"}});
    char err[512];
    rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    const std::string root = scratch_dir() + "/" + t.app + "-base";
    std::filesystem::create_directories(root);
    std::vector<std::unique_ptr<rocksdb::DB>> dbs;
    std::vector<rocksdb::WriteBatch> batches(static_cast<std::size_t>(p.partitions));
    std::vector<std::int64_t> ends;
    const std::int64_t start = now_ns();
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(p.partitions);
    long remaining = 0;
    for (int i = 0; i < p.partitions; ++i) {
      rocksdb::Options o;
      o.create_if_missing = true;
      rocksdb::DB* db = nullptr;
      if (auto s = rocksdb::DB::Open(o, fmt::format("{}/{}", root, i), &db); !s.ok())
        throw std::runtime_error(s.ToString());
      dbs.emplace_back(db);
      std::int64_t lo = 0, hi = 0;
      rd_kafka_query_watermark_offsets(c.get(), changelog.c_str(), i, &lo, &hi, 10'000);
      ends.push_back(hi);
      rd_kafka_topic_partition_list_add(list, changelog.c_str(), i)->offset = lo;
      if (hi > lo) ++remaining;
    }
    rd_kafka_assign(c.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
    std::vector<rd_kafka_message_t*> batch(1000);
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    long restored = 0;
    ssize_t n = 0;
    while (remaining > 0) {
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      for (ssize_t k = 0; k < n; ++k) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(k)];
        if (!m->err) {
          auto part = static_cast<std::size_t>(m->partition);
          batches[part].Put(rocksdb::Slice(static_cast<const char*>(m->key), m->key_len),
                            rocksdb::Slice(static_cast<const char*>(m->payload), m->len));
          ++restored;
          const bool at_end = m->offset + 1 >= ends[part];
          if (batches[part].Count() >= 10'000 || at_end) {
            dbs[part]->Write(wo, &batches[part]);
            batches[part].Clear();
          }
          if (at_end) --remaining;
        }
        rd_kafka_message_destroy(m);
      }
    }
    side s;
    s.seconds = static_cast<double>(now_ns() - start) / 1e9;
    s.records_per_s = static_cast<double>(restored) / s.seconds;
    s.peak_rss_mb = status_mb("VmHWM:");
    s.rss_growth_mb = s.peak_rss_mb - rss0;
    if (restored != p.records) s.failure = fmt::format("restored {} of {}", restored, p.records);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c.get());
    r.base = s;
  }
  return r;
}

// --- latency at a fixed rate (W1) ---------------------------------------------------------

// Produces `rate` records/s for `seconds` into t.input (value: send time in ns), reads
// `output` and records each result's delay after its send.
latencies measure_latency(const std::string& input, const std::string& output, int partitions,
                          double rate, double seconds, const std::function<void()>& wait_ready) {
  wait_ready();
  std::vector<std::int64_t> delays;
  const long total = static_cast<long>(rate * seconds);
  delays.reserve(static_cast<std::size_t>(total));
  std::atomic<long> received{0};
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap()},
                                       {"group.id", output + "-latency"},
                                       {"enable.partition.eof", "false"},
                                       {"fetch.wait.max.ms", "5"},
                                       {"enable.auto.commit", "false"}});
    char err[512];
    rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; ++i)
      rd_kafka_topic_partition_list_add(list, output.c_str(), i)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
    std::vector<rd_kafka_message_t*> batch(1000);
    ssize_t n = 0;
    while (reading.load() && received.load() < total) {
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      const std::int64_t now = now_ns();
      for (ssize_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
        if (!m->err && m->len >= 8) {
          delays.push_back(now - from_be64(m->payload));
          ++received;
        }
        rd_kafka_message_destroy(m);
      }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c.get());
  });
  {
    rk_ptr prod = make_producer();
    std::string value(100, 'x');
    const std::int64_t start = now_ns();
    for (long i = 0; i < total; ++i) {
      const std::int64_t due =
          start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
      while (now_ns() < due) {
        rd_kafka_poll(prod.get(), 0);
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // pacing the input rate
      }
      const std::string key = "k" + std::to_string(i % 1000);
      const std::string ns = be64(now_ns());
      std::memcpy(value.data(), ns.data(), 8);
      produce(prod.get(), input, RD_KAFKA_PARTITION_UA, key.data(), key.size(), value.data(),
              value.size());
    }
    flush(prod.get());
  }
  const auto deadline = clock::now() + std::chrono::seconds(30);
  while (clock::now() < deadline && received.load() < total)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waiting for the reader
  reading = false;
  reader.join();
  latencies l;
  if (static_cast<long>(delays.size()) < total) return l;
  std::vector<std::int64_t> kept(delays.begin() + static_cast<long>(delays.size() / 10),
                                 delays.end());
  std::sort(kept.begin(), kept.end());
  auto pct = [&](double q) {
    return static_cast<double>(
               kept[static_cast<std::size_t>(q * static_cast<double>(kept.size() - 1))]) /
           1e6;
  };
  l.p50 = pct(0.5);
  l.p99 = pct(0.99);
  l.p999 = pct(0.999);
  l.measured = true;
  return l;
}

// The mock broker answers a fetch that found nothing only after fetch.wait.max.ms (500 ms
// by default), even when records arrive meanwhile, which would put a 250 ms floor under
// every figure; all consumers of the latency runs wait at most 10 ms.
void w1_latency(const params& given, row& r) {
  params p = given;
  p.fetch_wait_ms = 10;
  const double rate =
      p.rate_fraction * std::min(r.rill.records_per_s, r.base ? r.base->records_per_s : 1e12);
  const double seconds = 4;
  {
    auto t = fresh("w1-lat", p.partitions);
    rill::streams_builder b;
    b.stream<rill::bytes, rill::bytes>(t.input).to(t.rill_output);
    rill::streams_app a(b.build(), rill_config(p, t.app));
    a.start();
    r.rill.latency = measure_latency(t.input, t.rill_output, p.partitions, rate, seconds,
                                     [&] { a.wait_until_running(std::chrono::minutes(1)); });
    a.close();
  }
  if (r.base) {
    auto t = fresh("w1-lat", p.partitions);
    params q = p;
    const long total = static_cast<long>(rate * seconds);
    const std::string out = t.output;
    loop_work work;
    work.record = [out](rd_kafka_t* prod, const rd_kafka_message_t& m) {
      produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, m.payload, m.len,
              rd_kafka_message_timestamp(&m, nullptr));
    };
    std::atomic<std::int64_t> assigned{0};
    std::thread loop([&] { run_loop(q, t.input, total, work, &assigned); });
    r.base->latency = measure_latency(t.input, t.output, p.partitions, rate, seconds, [&] {
      while (assigned.load() == 0)  // the loop's group join (about 3 s on the mock)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    loop.join();
  }
}

// --- output -------------------------------------------------------------------------------

std::string fmt_rate(double v) {
  return v >= 1e6 ? fmt::format("{:.2f} M", v / 1e6) : fmt::format("{:.0f} k", v / 1e3);
}

void print(const std::vector<row>& rows, const std::string& tsv) {
  fmt::print("\n{:<4} {:<78} {:>10} {:>10} {:>6} {:>7} {:>16} {:>16}\n", "id", "workload", "Rill/s",
             "base/s", "ratio", "target", "RSS +MB Rill|base", "lat p50/p99/p99.9 ms");
  std::FILE* out = tsv.empty() ? nullptr : std::fopen(tsv.c_str(), "a");
  for (const auto& r : rows) {
    auto fig = [](const side& s) {
      return s.failure.empty() ? fmt_rate(s.records_per_s) : "WRONG";
    };
    std::string ratio = "-";
    if (r.base && r.rill.failure.empty() && r.base->failure.empty())
      ratio = fmt::format("{:.2f}", r.rill.records_per_s / r.base->records_per_s);
    std::string lat;
    if (r.rill.latency.measured)
      lat = fmt::format("{:.1f}/{:.1f}/{:.1f}", r.rill.latency.p50, r.rill.latency.p99,
                        r.rill.latency.p999);
    if (r.base && r.base->latency.measured)
      lat += fmt::format(" | {:.1f}/{:.1f}/{:.1f}", r.base->latency.p50, r.base->latency.p99,
                         r.base->latency.p999);
    fmt::print("{:<4} {:<78} {:>10} {:>10} {:>6} {:>7} {:>16} {}\n", r.id, r.what, fig(r.rill),
               r.base ? fig(*r.base) : "-", ratio, r.target,
               fmt::format("{:.0f}|{}", r.rill.rss_growth_mb,
                           r.base ? fmt::format("{:.0f}", r.base->rss_growth_mb) : "-"),
               lat);
    if (!r.rill.failure.empty()) fmt::print("     Rill output wrong: {}\n", r.rill.failure);
    if (r.base && !r.base->failure.empty())
      fmt::print("     baseline output wrong: {}\n", r.base->failure);
    if (out) {
      std::fprintf(out, "%s\t%s\t%.0f\t%.0f\t%.1f\t%.1f\n", r.id.c_str(),
                   (r.label.empty() ? r.id : r.label).c_str(),
                   r.rill.failure.empty() ? r.rill.records_per_s : 0,
                   r.base && r.base->failure.empty() ? r.base->records_per_s : 0,
                   r.rill.rss_growth_mb, r.base ? r.base->rss_growth_mb : 0);
    }
  }
  if (out) std::fclose(out);
  std::fflush(stdout);
}

}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  spdlog::set_level(spdlog::level::warn);
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: bench_e2e all|W1|W2|W3|W4|W5|W6 [--records N] [--keys N] [--value-size B]\n"
        "       [--partitions N] [--threads N] [--guarantee at_least_once|exactly_once_v2]\n"
        "       [--commit-ms N] [--cache on|off] [--latency on|off] [--over W1|W3]\n"
        "       [--repeat N] [--rate-fraction F] [--broker embedded|sim]\n"
        "       [--tsv FILE]\n");
    return 2;
  }
  params p;
  p.workload = argv[1];
  std::string tsv;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--records")
      p.records = std::stol(v);
    else if (k == "--keys")
      p.keys = std::stol(v);
    else if (k == "--value-size")
      p.value_size = std::stoi(v);
    else if (k == "--partitions")
      p.partitions = std::stoi(v);
    else if (k == "--threads")
      p.threads = std::stoi(v);
    else if (k == "--guarantee")
      p.guarantee = v;
    else if (k == "--commit-ms")
      p.commit_ms = std::stoi(v);
    else if (k == "--cache")
      p.cache = v == "on";
    else if (k == "--latency")
      p.latency = v == "on";
    else if (k == "--tsv")
      tsv = v;
    else if (k == "--over")
      p.over = v;
    else if (k == "--repeat")
      p.repeat = std::stoi(v);
    else if (k == "--rate-fraction")
      p.rate_fraction = std::stod(v);
    else if (k == "--broker")
      p.broker = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::vector<row> rows;
  auto run = [&](const std::string& id, params q) {
    fmt::print("running {} ...\n", id);
    std::fflush(stdout);
    if (id == "W1") {
      rows.push_back(w1(q));
      if (q.latency) w1_latency(q, rows.back());
    } else if (id == "W2") {
      rows.push_back(w2(q));
    } else if (id == "W3") {
      rows.push_back(w3(q));
    } else if (id == "W4") {
      rows.push_back(w4(q));
    } else if (id == "W6") {
      rows.push_back(w6(q));
    }
  };
  auto w5 = [&](const params& q, bool counting) {
    w5_rows(
        q, counting, false, [&](const params& x) { return counting ? w3(x, "W5") : w1(x); }, rows);
  };
  const auto started = clock::now();
  if (p.broker == "sim") {
    if (p.workload == "all")
      sim_suite(p, rows);
    else
      sim_workload(p.workload, p, rows);
  } else if (p.workload == "all") {
    params q = p;
    q.latency = true;
    run("W1", q);
    q.latency = false;
    q.records = 300'000;
    run("W2", q);
    q.records = 1'000'000;
    q.keys = 1000;
    q.cache = false;
    run("W3", q);
    q.cache = true;
    run("W3", q);
    q.keys = 1'000'000;
    q.cache = false;
    run("W3", q);
    q.cache = true;
    run("W3", q);
    params b = p;
    b.records = 50'000;
    b.keys = 1000;
    run("W4", b);
    params e = p;
    e.records = 300'000;
    w5(e, false);
    e.keys = 1000;
    w5(e, true);
    params r6 = p;
    r6.records = 1'000'000;
    run("W6", r6);
  } else if (p.workload == "W5") {
    w5(p, p.over == "W3");
  } else {
    run(p.workload, p);
  }
  print(rows, tsv);
  fmt::print("\nsuite time {:.0f} s; delivery errors {}\n",
             std::chrono::duration<double>(clock::now() - started).count(), delivery_errors.load());
  std::filesystem::remove_all(scratch_dir());
  bool ok = true;
  for (const auto& r : rows)
    ok = ok && r.rill.failure.empty() && (!r.base || r.base->failure.empty());
  return ok ? 0 : 1;
}
