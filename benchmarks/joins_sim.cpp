// W8 and W9, the joins (joins_common.hpp), on the simulated cluster: Rill's stream thread and
// a hand-written loop over the same client interface, each stepped on this thread (see
// e2e_sim.cpp). Both sides read a join's two inputs in time order per partition: Rill's tasks
// wait for an empty input (max.task.idle.ms), the loop merges its queues the same way.
//
//   bench_e2e W8 --broker sim --records 1000000 --keys 100000 --cache on
//   bench_e2e W9 --broker sim --records 1000000 --keys 10000
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <rill/rill.hpp>

#include "e2e_sim.hpp"
#include "joins_common.hpp"

namespace bench {
namespace {

using rill::bytes_view;
namespace kafka = rill::kafka;

bytes_view view(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string text(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Long enough (an hour: max.task.idle.ms is wall-clock time, and a run under callgrind is
// slow) that a task never processes one input ahead of the other's records on the broker (the
// consumer's caught_up ends the wait once a partition has nothing more).
constexpr long join_idle_ms = 3'600'000;

class no_listener final : public kafka::rebalance_listener {
  void on_assigned(const std::vector<kafka::topic_partition>&) override {}
  void on_revoked(const std::vector<kafka::topic_partition>&) override {}
  void on_lost(const std::vector<kafka::topic_partition>&) override {}
};

// What a join's baseline does with each record (side 0 or 1 of the join, in time order per
// partition) and at each commit.
struct pair_work {
  std::function<void()> on_start;  // once the clock runs, e.g. open the RocksDB instances
  std::function<void(kafka::producer&, int side, const rill::detail::raw_record&)> record;
  std::function<void(kafka::producer&)> before_commit;
  std::function<void()> after_flush;
};

// e2e_sim.cpp's loop over two inputs: poll a batch → queue each record by input and partition
// (a full queue pauses its partition) → process what the merge releases, in time order →
// send; every commit_ms flush and commit the processed records' offsets.
side run_pair_loop(sim_world& w, const params& p, const std::array<std::string, 2>& inputs,
                   long expected, const pair_work& work) {
  const double rss0 = reset_peak_rss();
  const std::int64_t start = now_ns();
  std::int64_t clock_ns = start;
  if (work.on_start) work.on_start();
  auto clients = w.cluster.clients("baseline");
  auto consumer = clients->make_consumer({{"group.id", fmt::format("baseline-{}", run_counter())},
                                          {"enable.auto.commit", "false"},
                                          {"auto.offset.reset", "earliest"}});
  auto producer = clients->make_producer({});
  no_listener listener;
  must(consumer->subscribe({inputs[0], inputs[1]}, listener), "subscribe");
  auto tp = [&](int side, std::int32_t part) { return kafka::topic_partition{inputs[side], part}; };
  std::vector<kafka::consumed_record> batch;
  std::vector<kafka::topic_partition> pause, resume;
  std::map<std::pair<int, std::int32_t>, std::int64_t> positions;
  joins::pair_merge<kafka::consumed_record> merge(p.partitions, 1000);
  auto commit = [&] {
    if (work.before_commit) work.before_commit(*producer);
    must(producer->flush(std::chrono::seconds(30)), "flush");
    if (work.after_flush) work.after_flush();
    std::vector<kafka::partition_offset> offsets;
    for (auto [sp, off] : positions) offsets.push_back({tp(sp.first, sp.second), off});
    must(consumer->commit(offsets), "commit");
  };
  long processed = 0;
  auto now = [&] { return p.clock_by_records ? w.cluster.now() * 1'000'000 : now_ns(); };
  auto last_commit = now();
  const std::int64_t interval_ns = std::int64_t{p.commit_ms} * 1'000'000;
  while (processed < expected) {
    batch.clear();
    must(consumer->poll(std::chrono::milliseconds(0), 1000, batch), "poll");
    pause.clear();
    for (auto& r : batch) {
      const int side = r.raw.topic == inputs[0] ? 0 : 1;
      const std::int32_t part = r.raw.partition;
      if (merge.add(side, part, std::move(r))) pause.push_back(tp(side, part));
    }
    if (!pause.empty()) must(consumer->pause(pause), "pause");
    resume.clear();
    merge.drain([](const kafka::consumed_record& r) { return r.raw.timestamp; },
                [&](int side, std::int32_t part, kafka::consumed_record&& r) {
                  work.record(*producer, side, r.raw);
                  positions[{side, part}] = r.raw.offset + 1;
                  ++processed;
                },
                [&](int side, std::int32_t part) { return consumer->caught_up(tp(side, part)); },
                [&](int side, std::int32_t part) { resume.push_back(tp(side, part)); });
    if (!resume.empty()) must(consumer->resume(resume), "resume");
    if (now() - last_commit >= interval_ns) {
      commit();
      last_commit = now();
    }
    if (p.clock_by_records)
      w.follow_records(processed);
    else
      w.follow_real_time(clock_ns);
  }
  commit();
  consumer->close();
  side s;
  s.seconds = static_cast<double>(now_ns() - start) / 1e9;
  s.records_per_s = static_cast<double>(expected) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  return s;
}

template <class Check>
std::string check_output(const sim_world& w, Check check) {
  for (const auto& rec : w.cluster.read_committed("out")) {
    if (!rec.key || !rec.value)
      check.add(nullptr, 0, nullptr, 0);  // counted as wrong
    else
      check.add(rec.key->data(), rec.key->size(), rec.value->data(), rec.value->size());
  }
  return check.verdict();
}

}  // namespace

row sim_w8(const params& p) {
  const long customers = p.keys;
  row r{"W8", fmt::format("stream-table join, {} customers then {} orders (keyed by customer), "
                          "cache {} [sim]",
                          customers, p.records, p.cache ? "on" : "off")};
  r.target = ">= 0.70";
  r.label = "W8 stream-table join (sim)";
  r.baseline_name = "loop over the client interface + RocksDB lookups";
  auto world = [&] {
    auto w = std::make_unique<sim_world>();
    for (const char* t : {"customers", "orders", "out"}) w->create(t, p.partitions);
    for (long c = 0; c < customers; ++c)
      w->produce("customers", to_bytes(joins::customer_key(c)), to_bytes(joins::customer_value(c)),
                 joins::customer_time());
    for (long i = 0; i < p.records; ++i)
      w->produce("orders", to_bytes(joins::customer_key(joins::customer_of(i, customers))),
                 to_bytes(joins::order_value(i)), joins::order_time(i));
    return w;
  };
  auto verdict = [&](const sim_world& w) {
    return check_output(w, joins::w8_check(p.records, customers));
  };
  const long expected = customers + p.records;  // both inputs' records
  median_of(
      p, r,
      [&] {
        auto w = world();
        params q = p;
        q.max_task_idle_ms = join_idle_ms;
        const std::string app = fmt::format("w8-{}", run_counter());
        side s = run_rill(*w, joins::w8_topology("orders", "customers", "out"), q, app, expected);
        if (s.failure.empty()) s.failure = verdict(*w);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world();
        w->create("base-changelog", p.partitions);
        std::vector<std::unique_ptr<joins::table_state>> parts;
        const bool cache = p.cache;
        std::string customer, joined;
        pair_work work;
        work.on_start = [&] {
          parts = joins::open_tables(fmt::format("{}/base-{}", scratch_dir(), run_counter()),
                                     p.partitions);
        };
        work.record = [&](kafka::producer& prod, int side, const rill::detail::raw_record& m) {
          joins::table_state& st = *parts[static_cast<std::size_t>(m.partition)];
          std::string key = text(*m.key);
          if (side == 0) {  // a customer (the input has no deletes)
            if (!cache) send(prod, "base-changelog", m.partition, m.key, m.value, m.timestamp);
            st.pending.insert_or_assign(std::move(key), text(*m.value));
            return;
          }
          if (!st.get(key, customer)) return;  // an order: joined if its customer exists
          joined = text(*m.value);
          joined += customer;
          send(prod, "out", m.partition, m.key, view(joined), m.timestamp);
        };
        work.before_commit = [&](kafka::producer& prod) {
          if (!cache) return;
          for (std::size_t i = 0; i < parts.size(); ++i)
            for (const auto& [k, v] : parts[i]->pending)
              send(prod, "base-changelog", static_cast<std::int32_t>(i), view(k), view(v), 0);
        };
        work.after_flush = [&] {
          for (auto& st : parts) st->write_pending();
        };
        side s = run_pair_loop(*w, p, {"customers", "orders"}, expected, work);
        s.failure = verdict(*w);
        return s;
      })
                 : std::function<side()>());
  return r;
}

row sim_w9(const params& p) {
  const auto hours = static_cast<double>(p.records * joins::spacing(p.keys)) / 3.6e6;
  row r{"W9", fmt::format("stream-stream join, 5 min window, {} keys, {} + {} records over "
                          "{:.1f} h of event time [sim]",
                          p.keys, p.records, p.records, hours)};
  r.target = ">= 0.70";
  r.label = "W9 stream-stream join (sim)";
  r.baseline_name = "loop over the client interface + RocksDB range lookups";
  auto world = [&] {
    auto w = std::make_unique<sim_world>();
    for (const char* t : {"left", "right", "out"}) w->create(t, p.partitions);
    for (long i = 0; i < p.records; ++i)
      w->produce("left", to_bytes(joins::w9_key(i, p.keys)), to_bytes(be64(i)),
                 joins::left_time(i, p.keys));
    for (long m : joins::right_order(p.records, p.keys))
      w->produce("right", to_bytes(joins::w9_key(m, p.keys)), to_bytes(be64(m)),
                 joins::right_time(m, p.keys));
    return w;
  };
  auto verdict = [&](const sim_world& w) {
    return check_output(w, joins::w9_check(p.records, p.keys));
  };
  const long expected = 2 * p.records;
  median_of(
      p, r,
      [&] {
        auto w = world();
        params q = p;
        q.max_task_idle_ms = join_idle_ms;
        const std::string app = fmt::format("w9-{}", run_counter());
        side s = run_rill(*w, joins::w9_topology("left", "right", "out"), q, app, expected);
        if (s.failure.empty()) s.failure = verdict(*w);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world();
        w->create("base-changelog", p.partitions);
        std::vector<std::unique_ptr<joins::join_state>> parts;
        std::string joined;
        pair_work work;
        work.on_start = [&] {
          parts = joins::open_join_states(fmt::format("{}/base-{}", scratch_dir(), run_counter()),
                                          p.partitions);
        };
        work.record = [&](kafka::producer& prod, int side, const rill::detail::raw_record& m) {
          joins::join_state& st = *parts[static_cast<std::size_t>(m.partition)];
          const std::int64_t t = m.timestamp;
          if (t + joins::window_ms < st.stream_time) return;  // late: its window has closed
          const std::string key = text(*m.key);
          const std::string value = text(*m.value);
          const std::string& stored = st.add(side == 0 ? 'L' : 'R', key, t, value);
          send(prod, "base-changelog", m.partition, view(stored), m.value, t);
          st.match(side == 0 ? 'R' : 'L', key, t - joins::window_ms, t + joins::window_ms,
                   [&](std::string_view other) {
                     if (side == 0) {
                       joined = value;
                       joined += other;
                     } else {
                       joined = other;
                       joined += value;
                     }
                     send(prod, "out", m.partition, m.key, view(joined), t);
                   });
        };
        work.after_flush = [&] {
          for (auto& st : parts) st->write_pending();
        };
        side s = run_pair_loop(*w, p, {"left", "right"}, expected, work);
        s.failure = verdict(*w);
        return s;
      })
                 : std::function<side()>());
  return r;
}

}  // namespace bench
