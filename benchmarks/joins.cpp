// W8 and W9, the joins (joins_common.hpp), on the embedded broker: Rill against a
// hand-written librdkafka loop over the join's two inputs, merged in time order per
// partition as a Rill task merges them (Rill runs with max.task.idle.ms set for the same).
#include <array>

#include "e2e_embedded.hpp"
#include "joins_common.hpp"
#include "src/runtime/partitioner.hpp"

namespace bench {

namespace {

// Long enough (an hour: max.task.idle.ms is wall-clock time, and a run under callgrind is
// slow) that a task never processes one input ahead of the other's records on the broker (a
// partition the consumer has read to its end ends the wait).
constexpr long join_idle_ms = 3'600'000;

std::int32_t partition_of(const std::string& key, int partitions) {
  return rill::runtime::default_partition(
      rill::bytes_view(reinterpret_cast<const std::byte*>(key.data()), key.size()), partitions);
}

void this_minute() {
  joins::base_time = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() /
                     60'000 * 60'000;
}

template <class Check>
std::string check_output(const std::string& topic, int partitions, Check check) {
  read_all(topic, partitions,
           [&](const rd_kafka_message_t& m) { check.add(m.key, m.key_len, m.payload, m.len); });
  return check.verdict();
}

struct list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, list_deleter>;

// What a join's baseline does with each record (side 0 or 1 of the join, in time order per
// partition) and at each commit.
struct pair_work {
  std::function<void()> on_start;  // once the clock runs, e.g. open the RocksDB instances
  std::function<void(rd_kafka_t* producer, int side, const rd_kafka_message_t& m)> record;
  std::function<void(rd_kafka_t* producer)> before_commit;
  std::function<void()> after_flush;
};

struct message_deleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;

// run_loop (e2e_embedded.hpp) over two inputs, on one thread: consume a batch → queue each
// message by input and partition (a full queue pauses its partition) → process what the
// merge releases, in time order → produce; every commit_ms flush the producer and commit the
// processed offsets. Timed from assignment to the last commit.
side run_pair_loop(const params& p, const std::array<std::string, 2>& inputs, long expected,
                   const pair_work& work) {
  std::atomic<std::int64_t> assigned_at{0};
  const double rss0 = reset_peak_rss();
  rd_kafka_conf_t* conf = make_conf(
      {{"bootstrap.servers", bootstrap()},
       {"group.id", fmt::format("baseline-{}", run_counter())},
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
      std::int64_t zero = 0;
      static_cast<std::atomic<std::int64_t>*>(op)->compare_exchange_strong(zero, now_ns());
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  });
  char err[512];
  rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!c) throw std::runtime_error(err);
  rd_kafka_poll_set_consumer(c.get());
  rk_ptr producer = make_producer();
  {
    list_ptr topics(rd_kafka_topic_partition_list_new(2));
    for (const auto& t : inputs)
      rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(c.get(), topics.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("subscribe failed");
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
  // As Rill's consumer decides it: read up to the high watermark last fetched.
  auto caught_up = [&](int side, std::int32_t part) {
    list_ptr l(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(l.get(), inputs[side].c_str(), part);
    if (rd_kafka_position(c.get(), l.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    const std::int64_t position = l->elems[0].offset;
    std::int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(c.get(), inputs[side].c_str(), part, &low, &high))
      return false;
    return high >= 0 && (position >= high || (position < 0 && high == low));
  };
  auto pause_or_resume = [&](std::vector<std::pair<int, std::int32_t>>& which, bool pause) {
    if (which.empty()) return;
    list_ptr l(rd_kafka_topic_partition_list_new(static_cast<int>(which.size())));
    for (auto [side, part] : which)
      rd_kafka_topic_partition_list_add(l.get(), inputs[side].c_str(), part);
    if (pause ? rd_kafka_pause_partitions(c.get(), l.get())
              : rd_kafka_resume_partitions(c.get(), l.get()))
      throw std::runtime_error("pausing or resuming partitions failed");
    which.clear();
  };
  std::map<std::pair<int, std::int32_t>, std::int64_t> positions;
  auto commit = [&] {
    if (work.before_commit) work.before_commit(producer.get());
    flush(producer.get());
    if (work.after_flush) work.after_flush();
    if (positions.empty()) return;
    list_ptr offs(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
    for (auto [sp, off] : positions)
      rd_kafka_topic_partition_list_add(offs.get(), inputs[sp.first].c_str(), sp.second)->offset =
          off;
    if (rd_kafka_commit(c.get(), offs.get(), 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("commit failed");
  };
  joins::pair_merge<message_ptr> merge(p.partitions, 1000);
  std::vector<rd_kafka_message_t*> batch(1000);
  std::vector<std::pair<int, std::int32_t>> pause, resume;
  bool started = false;
  long processed = 0;
  auto last_commit = clock::now();
  ssize_t n = 0;
  while (processed < expected) {
    // Whatever is there at once while records flow; a short wait when none were.
    n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
    if (!started && work.on_start && assigned_at.load() != 0) {
      work.on_start();
      started = true;
    }
    for (ssize_t i = 0; i < n; ++i) {
      message_ptr m(batch[static_cast<std::size_t>(i)]);
      if (m->err) continue;
      const int side = rd_kafka_topic_name(m->rkt) == inputs[0] ? 0 : 1;
      const std::int32_t part = m->partition;
      if (merge.add(side, part, std::move(m))) pause.emplace_back(side, part);
    }
    pause_or_resume(pause, true);
    merge.drain([](const message_ptr& m) { return rd_kafka_message_timestamp(m.get(), nullptr); },
                [&](int side, std::int32_t part, message_ptr&& m) {
                  work.record(producer.get(), side, *m);
                  positions[{side, part}] = m->offset + 1;
                  ++processed;
                },
                caught_up, [&](int side, std::int32_t part) { resume.emplace_back(side, part); });
    pause_or_resume(resume, false);
    rd_kafka_poll(producer.get(), 0);
    if (clock::now() - last_commit >= std::chrono::milliseconds(p.commit_ms)) {
      commit();
      last_commit = clock::now();
    }
  }
  commit();
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(c.get());
  side s;
  s.seconds = static_cast<double>(now_ns() - assigned_at.load()) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  return s;
}

std::string text(const void* p, std::size_t n) {
  return {static_cast<const char*>(p), n};
}

}  // namespace

row w8_row(const params& p) {
  const long customers = p.keys;
  row r{"W8", fmt::format("stream-table join, {} customers then {} orders (keyed by customer), "
                          "cache {}",
                          customers, p.records, p.cache ? "on" : "off")};
  r.label = "W8 stream-table join";
  r.baseline_name = "librdkafka loop + RocksDB lookups";
  this_minute();
  auto first = fresh("w8", p.partitions);
  auto customers_of = [](const topics_of_run& t) { return t.input + "-customers"; };
  create_topic(customers_of(first), p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
    for (long c = 0; c < customers; ++c) {
      const std::string k = joins::customer_key(c), v = joins::customer_value(c);
      produce(prod.get(), customers_of(first), partition_of(k, p.partitions), k.data(), k.size(),
              v.data(), v.size(), joins::customer_time());
    }
    for (long i = 0; i < p.records; ++i) {
      const std::string k = joins::customer_key(joins::customer_of(i, customers));
      const std::string v = joins::order_value(i);
      produce(prod.get(), first.input, partition_of(k, p.partitions), k.data(), k.size(), v.data(),
              v.size(), joins::order_time(i));
    }
    flush(prod.get());
  }
  const long expected = customers + p.records;
  best_of(
      p, first, r,
      [&](const topics_of_run& t) {
        params q = p;
        q.max_task_idle_ms = join_idle_ms;
        side s = run_rill(joins::w8_topology(t.input, customers_of(t), t.rill_output), q, t.app,
                          expected);
        if (s.failure.empty())
          s.failure =
              check_output(t.rill_output, p.partitions, joins::w8_check(p.records, customers));
        return s;
      },
      [&](const topics_of_run& t) {
        const std::string changelog = t.app + "-base-changelog", out = t.output;
        create_topic(changelog, p.partitions);
        std::vector<std::unique_ptr<joins::table_state>> parts;
        std::string customer, joined;
        pair_work work;
        work.on_start = [&] {
          parts = joins::open_tables(scratch_dir() + "/" + t.app, p.partitions);
        };
        work.record = [&](rd_kafka_t* prod, int side, const rd_kafka_message_t& m) {
          joins::table_state& st = *parts[static_cast<std::size_t>(m.partition)];
          std::string key = text(m.key, m.key_len);
          const std::int64_t ts = rd_kafka_message_timestamp(&m, nullptr);
          if (side == 0) {  // a customer (the input has no deletes)
            if (!p.cache)
              produce(prod, changelog, m.partition, m.key, m.key_len, m.payload, m.len, ts);
            st.pending.insert_or_assign(std::move(key), text(m.payload, m.len));
            return;
          }
          if (!st.get(key, customer)) return;  // an order: joined if its customer exists
          joined = text(m.payload, m.len);
          joined += customer;
          produce(prod, out, m.partition, m.key, m.key_len, joined.data(), joined.size(), ts);
        };
        work.before_commit = [&](rd_kafka_t* prod) {
          if (!p.cache) return;
          for (std::size_t i = 0; i < parts.size(); ++i)
            for (const auto& [k, v] : parts[i]->pending)
              produce(prod, changelog, static_cast<std::int32_t>(i), k.data(), k.size(), v.data(),
                      v.size());
        };
        work.after_flush = [&] {
          for (auto& st : parts) st->write_pending();
        };
        side s = run_pair_loop(p, {customers_of(t), t.input}, expected, work);
        s.failure = check_output(t.output, p.partitions, joins::w8_check(p.records, customers));
        return s;
      });
  return r;
}

row w9_row(const params& p) {
  this_minute();
  const auto hours = static_cast<double>(p.records * joins::spacing(p.keys)) / 3.6e6;
  row r{"W9", fmt::format("stream-stream join, 5 min window, {} keys, {} + {} records over "
                          "{:.1f} h of event time",
                          p.keys, p.records, p.records, hours)};
  r.label = "W9 stream-stream join";
  r.baseline_name = "librdkafka loop + RocksDB range lookups";
  auto first = fresh("w9", p.partitions);
  auto right_of = [](const topics_of_run& t) { return t.input + "-right"; };
  create_topic(right_of(first), p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
    for (long i = 0; i < p.records; ++i) {
      const std::string k = joins::w9_key(i, p.keys), v = be64(i);
      produce(prod.get(), first.input, partition_of(k, p.partitions), k.data(), k.size(), v.data(),
              v.size(), joins::left_time(i, p.keys));
    }
    for (long m : joins::right_order(p.records, p.keys)) {
      const std::string k = joins::w9_key(m, p.keys), v = be64(m);
      produce(prod.get(), right_of(first), partition_of(k, p.partitions), k.data(), k.size(),
              v.data(), v.size(), joins::right_time(m, p.keys));
    }
    flush(prod.get());
  }
  const long expected = 2 * p.records;
  best_of(
      p, first, r,
      [&](const topics_of_run& t) {
        params q = p;
        q.max_task_idle_ms = join_idle_ms;
        side s =
            run_rill(joins::w9_topology(t.input, right_of(t), t.rill_output), q, t.app, expected);
        if (s.failure.empty())
          s.failure = check_output(t.rill_output, p.partitions, joins::w9_check(p.records, p.keys));
        return s;
      },
      [&](const topics_of_run& t) {
        const std::string changelog = t.app + "-base-changelog", out = t.output;
        create_topic(changelog, p.partitions);
        std::vector<std::unique_ptr<joins::join_state>> parts;
        std::string joined;
        pair_work work;
        work.on_start = [&] {
          parts = joins::open_join_states(scratch_dir() + "/" + t.app, p.partitions);
        };
        work.record = [&](rd_kafka_t* prod, int side, const rd_kafka_message_t& m) {
          joins::join_state& st = *parts[static_cast<std::size_t>(m.partition)];
          const std::int64_t ts = rd_kafka_message_timestamp(&m, nullptr);
          if (ts + joins::window_ms < st.stream_time) return;  // late: its window has closed
          const std::string key = text(m.key, m.key_len);
          const std::string value = text(m.payload, m.len);
          const std::string& stored = st.add(side == 0 ? 'L' : 'R', key, ts, value);
          produce(prod, changelog, m.partition, stored.data(), stored.size(), m.payload, m.len, ts);
          st.match(side == 0 ? 'R' : 'L', key, ts - joins::window_ms, ts + joins::window_ms,
                   [&](std::string_view other) {
                     if (side == 0) {
                       joined = value;
                       joined += other;
                     } else {
                       joined = other;
                       joined += value;
                     }
                     produce(prod, out, m.partition, m.key, m.key_len, joined.data(), joined.size(),
                             ts);
                   });
        };
        work.after_flush = [&] {
          for (auto& st : parts) st->write_pending();
        };
        side s = run_pair_loop(p, {t.input, right_of(t)}, expected, work);
        s.failure = check_output(t.output, p.partitions, joins::w9_check(p.records, p.keys));
        return s;
      });
  return r;
}

}  // namespace bench
