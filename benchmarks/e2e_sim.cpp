// The end-to-end workloads on the simulated cluster (src/sim): no broker threads, no network,
// no librdkafka. Rill's stream thread and the hand-written baseline loop are each stepped on
// this one thread against the same in-memory cluster, so the figures measure the CPU each
// spends on its own work: the runtime against the plainest loop over the same client
// interface. The simulated cluster writes transaction markers and filters read_committed,
// so W5 here also pays for what exactly-once does on a real cluster's logs (but not for its
// round trips or replication).
//
// The harness (e2e_sim.hpp) is shared with joins_sim.cpp (W8, W9).
//
//   bench_e2e all --broker sim          the suite
//   bench_e2e W3 --broker sim --keys 1000 --cache off
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <rill/rill.hpp>

#include "e2e_common.hpp"
#include "e2e_sim.hpp"
#include "src/runtime/app_settings.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/runtime/stream_thread.hpp"
#include "src/sim/cluster.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"
#include "w7_common.hpp"

namespace bench {

using rill::bytes;
using rill::bytes_view;
namespace kafka = rill::kafka;
namespace sim = rill::sim;
namespace runtime = rill::runtime;

void must(const rill::kafka::error& e, const char* what) {
  if (e) throw std::runtime_error(std::string(what) + ": " + e.message());
}

bytes to_bytes(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  return bytes(b, b + n);
}
bytes to_bytes(const std::string& s) {
  return to_bytes(s.data(), s.size());
}

// --- Rill: one stream thread on the simulated cluster, stepped here ------------------------

// The check of a run's output, called out of line under a name of its own: the instruction
// yardstick (instructions.sh) counts run_rill but not this.
[[gnu::noinline]] std::string check_output(
    const std::function<std::string(runtime::task_manager&)>& check, runtime::task_manager& tasks) {
  return check(tasks);
}

side run_rill(sim_world& w, const rill::topology& t, const params& p, const std::string& app,
              long expected, std::uint64_t* restored,
              const std::function<std::string(runtime::task_manager&)>& check) {
  rill::config cfg{{"application.id", app},
                   {"processing.guarantee", p.guarantee},
                   {"commit.interval.ms", std::to_string(p.commit_ms)},
                   {"log.level", "warn"}};
  if (!p.cache) cfg.set("statestore.cache.max.bytes", "0");
  if (p.max_task_idle_ms != 0) cfg.set("max.task.idle.ms", std::to_string(p.max_task_idle_ms));
  cfg.apply_environment();  // e.g. RILL_CONFIG_RESTORE_BULK_MIN_RECORDS=1000000000
  const auto& compiled = t.compiled();
  runtime::app_shared s = runtime::settings_from(compiled, cfg);
  auto internal = runtime::internal_partition_counts(compiled, app, [&](const std::string& topic) {
    auto it = w.partitions.find(topic);
    return it == w.partitions.end() ? std::nullopt : std::optional(it->second);
  });
  for (const auto& [topic, n] : internal)
    if (!w.partitions.contains(topic)) w.create(topic, n);
  s.partition_counts = w.partitions;
  const std::string root = fmt::format("{}/{}", scratch_dir(), app);
  rill::state::state_directory dir(root);
  rill::state::rocksdb_env env(256u << 20);
  s.state_directory = &dir;
  s.rocksdb = &env;
  auto clients = w.cluster.clients("rill");
  s.clients = clients.get();
  s.client_id = app;
  s.transactional_id_prefix = app + "-bench";
  s.real_backoff = false;
  if (p.clock_by_records) s.monotonic_ms = [&w] { return w.cluster.now(); };

  const double rss0 = reset_peak_rss();
  const std::int64_t start = now_ns();
  std::int64_t clock_ns = start;
  std::int64_t end = 0;
  side out;
  {
    runtime::stream_thread thread(1, s, nullptr, nullptr);
    thread.set_up();
    const long limit = 50'000'000;  // steps; a stuck run reports instead of spinning forever
    long steps = 0;
    auto done = [&] {
      if (restored) return thread.counters().restored >= static_cast<std::uint64_t>(expected);
      return thread.counters().processed >= static_cast<std::uint64_t>(expected);
    };
    while (!done() && ++steps < limit) {
      thread.step();
      if (p.clock_by_records)
        w.follow_records(static_cast<std::int64_t>(thread.counters().processed.load()));
      else
        w.follow_real_time(clock_ns);
    }
    // Restoring ends when the last record is in the store; processing ends with the final
    // commit, timed as the baseline's is.
    if (restored) {
      end = now_ns();
      *restored = thread.counters().restored;
    }
    if (check && done() && thread.tasks() != nullptr)
      out.failure = check_output(check, *thread.tasks());
    thread.tear_down();
    if (!restored) end = now_ns();
    if (!done())
      out.failure =
          fmt::format("stopped at {} of {} records", thread.counters().processed.load(), expected);
  }
  out.seconds = static_cast<double>(end - start) / 1e9;
  out.records_per_s = static_cast<double>(expected) / out.seconds;
  out.peak_rss_mb = status_mb("VmHWM:");
  out.rss_growth_mb = out.peak_rss_mb - rss0;
  return out;
}

void send(kafka::producer& prod, const std::string& topic, std::int32_t partition,
          const std::optional<bytes_view>& key, const std::optional<bytes_view>& value,
          rill::timestamp_ms ts) {
  if (kafka::error e = prod.send(topic, partition, key, value, {}, ts))
    throw std::runtime_error(e.message());
}

void median_of(const params& p, row& r, const std::function<side()>& rill_side,
               const std::function<side()>& base_side) {
  std::vector<side> rill_runs, base_runs;
  for (int i = 0; i < std::max(1, p.repeat); ++i) {  // interleaved: Rill, baseline, Rill, ...
    if (p.rill) rill_runs.push_back(rill_side());
    if (base_side) base_runs.push_back(base_side());
  }
  r.rill = median_run(std::move(rill_runs));
  if (base_side) r.base = median_run(std::move(base_runs));
}

namespace {

// --- the hand-written loop over the same client interface ----------------------------------

struct sim_work {
  std::function<void()> on_start;  // once the clock runs, e.g. open the RocksDB instances
  std::function<void(kafka::producer&, const rill::detail::raw_record&)> record;
  std::function<void(kafka::producer&)> before_commit;
  std::function<void()> after_flush;
};

class no_listener final : public kafka::rebalance_listener {
  void on_assigned(const std::vector<kafka::topic_partition>&) override {}
  void on_revoked(const std::vector<kafka::topic_partition>&) override {}
  void on_lost(const std::vector<kafka::topic_partition>&) override {}
};

// Poll a batch → work → send; every commit_ms flush and commit the consumed offsets.
side run_loop(sim_world& w, const params& p, const std::string& input, long expected,
              const sim_work& work) {
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
  must(consumer->subscribe({input}, listener), "subscribe");
  std::vector<kafka::consumed_record> batch;
  std::map<std::int32_t, std::int64_t> positions;
  auto commit = [&] {
    if (work.before_commit) work.before_commit(*producer);
    must(producer->flush(std::chrono::seconds(30)), "flush");
    if (work.after_flush) work.after_flush();
    std::vector<kafka::partition_offset> offsets;
    for (auto [part, off] : positions) offsets.push_back({{input, part}, off});
    must(consumer->commit(offsets), "commit");
  };
  long consumed = 0;
  auto now = [&] { return p.clock_by_records ? w.cluster.now() * 1'000'000 : now_ns(); };
  auto last_commit = now();
  const std::int64_t interval_ns = std::int64_t{p.commit_ms} * 1'000'000;
  while (consumed < expected) {
    batch.clear();
    must(consumer->poll(std::chrono::milliseconds(0), 1000, batch), "poll");
    for (const auto& r : batch) {
      work.record(*producer, r.raw);
      positions[r.raw.partition] = r.raw.offset + 1;
      ++consumed;
    }
    if (now() - last_commit >= interval_ns) {
      commit();
      last_commit = now();
    }
    if (p.clock_by_records)
      w.follow_records(consumed);
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

// --- inputs and checks ---------------------------------------------------------------------

// generate_input's records, partitioned as a Kafka producer would; returns their checksum.
std::uint64_t preload(sim_world& w, const params& p, const std::string& topic, int value_size) {
  return generate_input(p.records, p.keys, value_size,
                        [&](const std::string& key, const std::string& value) {
                          w.produce(topic, to_bytes(key), to_bytes(value));
                        });
}

std::string check_copy(const sim_world& w, const std::string& topic, long records,
                       std::uint64_t sum) {
  long n = 0;
  std::uint64_t got = 0;
  for (const auto& r : w.cluster.read_committed(topic)) {
    ++n;
    const bytes& k = *r.key;
    const bytes& v = *r.value;
    got += fnv(v.data(), v.size(), fnv(k.data(), k.size()));
  }
  return copy_verdict(n, records, got, sum);
}

std::string check_counts(const sim_world& w, const std::string& topic, const params& p) {
  std::unordered_map<std::string, std::int64_t> last;
  for (const auto& r : w.cluster.read_committed(topic)) {
    if (!r.key || !r.value || r.value->size() != 8) continue;
    last[std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size())] =
        from_be64(r.value->data());
  }
  return count_verdict(last, p);
}

std::string suffix(const params& p) {
  return p.guarantee == "at_least_once" ? "" : fmt::format(", {} @{} ms", p.guarantee, p.commit_ms);
}

// --- workloads -----------------------------------------------------------------------------

row w1(const params& p) {
  row r{"W1", fmt::format("pass-through, {} B values, {} records{} [sim]", p.value_size, p.records,
                          suffix(p))};
  r.target = ">= 0.90";
  r.label = "W1 pass-through (sim)";
  r.baseline_name = "loop over the client interface";
  auto world = [&](std::uint64_t& sum) {
    auto w = std::make_unique<sim_world>();
    w->create("in", p.partitions);
    w->create("out", p.partitions);
    sum = preload(*w, p, "in", p.value_size);
    return w;
  };
  median_of(
      p, r,
      [&] {
        std::uint64_t sum = 0;
        auto w = world(sum);
        rill::streams_builder b;
        b.stream<bytes_view, bytes_view>("in").to("out");  // borrowed: no copy
        side s = run_rill(*w, b.build(), p, fmt::format("w1-{}", run_counter()), p.records);
        if (s.failure.empty()) s.failure = check_copy(*w, "out", p.records, sum);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        std::uint64_t sum = 0;
        auto w = world(sum);
        sim_work work;
        const std::int32_t n = p.partitions;
        work.record = [n](kafka::producer& prod, const rill::detail::raw_record& m) {
          send(prod, "out", runtime::default_partition(*m.key, n), m.key, m.value, m.timestamp);
        };
        side s = run_loop(*w, p, "in", p.records, work);
        s.failure = check_copy(*w, "out", p.records, sum);
        return s;
      })
                 : std::function<side()>());
  return r;
}

row w2(const params& p) {
  row r{"W2",
        fmt::format("filter + map on JSON orders (struct serde), {} records [sim]", p.records)};
  r.target = ">= 0.85";
  r.label = "W2 JSON filter+map (sim)";
  r.baseline_name = "loop over the client interface, same JSON serde";
  long want = 0;
  for (long i = 0; i < p.records; ++i) want += i % 10 < 7 ? 1 : 0;
  auto world = [&] {
    auto w = std::make_unique<sim_world>();
    w->create("in", p.partitions);
    w->create("out", p.partitions);
    auto serde = rill::default_serde<order>();
    rill::bytes buf;
    for (long i = 0; i < p.records; ++i) {
      order o = make_order(i);
      serde.encode(o, buf, {"in", false, nullptr});
      w->produce("in", to_bytes(o.id), buf);
    }
    return w;
  };
  auto check = [&](const sim_world& w) -> std::string {
    summary_check check;
    for (const auto& rec : w.cluster.read_committed("out"))
      check.add(bytes_view(*rec.value), "out");
    return check.verdict(want);
  };
  median_of(
      p, r,
      [&] {
        auto w = world();
        rill::streams_builder b;
        b.stream<std::string, order>("in")
            .filter([](const std::string&, const order& o) { return o.status == "paid"; })
            .map_values([](const order& o) { return summarize(o); })
            .to("out");
        side s = run_rill(*w, b.build(), p, fmt::format("w2-{}", run_counter()), p.records);
        if (s.failure.empty()) s.failure = check(*w);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world();
        auto in_serde = rill::default_serde<order>();
        auto out_serde = rill::default_serde<order_summary>();
        rill::bytes buf;
        sim_work work;
        work.record = [&](kafka::producer& prod, const rill::detail::raw_record& m) {
          bytes_view v = *m.value;
          order o = in_serde.decode(&v, {"in", false, nullptr});
          if (o.status != "paid") return;
          out_serde.encode(summarize(o), buf, {"out", false, nullptr});
          send(prod, "out", runtime::default_partition(*m.key, p.partitions), m.key,
               bytes_view(buf), m.timestamp);
        };
        side s = run_loop(*w, p, "in", p.records, work);
        s.failure = check(*w);
        return s;
      })
                 : std::function<side()>());
  return r;
}

rill::topology count_topology() {
  rill::streams_builder b;
  b.stream<std::string, bytes_view>("in")  // the count reads no value: borrowed, as W1
      .group_by_key()
      .count(rill::named("counts"))
      .to_stream()
      .to("out");
  return b.build();
}

row w3(const params& p, const std::string& id = "W3") {
  row r{id, fmt::format("count by key on RocksDB + changelog, {} keys, cache {}, {} records{} "
                        "[sim]",
                        p.keys, p.cache ? "on" : "off", p.records, suffix(p))};
  r.target = p.cache ? "" : ">= 0.70";
  r.label =
      fmt::format("W3 {} keys, cache {} (sim)", p.keys >= 1'000'000 ? "1M" : std::to_string(p.keys),
                  p.cache ? "on" : "off");
  r.baseline_name = "loop over the client interface + RocksDB WriteBatch";
  auto world = [&] {
    auto w = std::make_unique<sim_world>();
    w->create("in", p.partitions);
    w->create("out", p.partitions);
    preload(*w, p, "in", 8);
    return w;
  };
  median_of(
      p, r,
      [&] {
        auto w = world();
        side s = run_rill(*w, count_topology(), p, fmt::format("w3-{}", run_counter()), p.records);
        if (s.failure.empty()) s.failure = check_counts(*w, "out", p);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world();
        w->create("base-changelog", p.partitions);
        std::vector<std::unique_ptr<count_state>> parts;
        const bool cache = p.cache;
        auto emit = [](kafka::producer& prod, std::int32_t part, const std::string& key,
                       std::int64_t count) {
          const std::string v = be64(count);
          const bytes_view k(reinterpret_cast<const std::byte*>(key.data()), key.size());
          const bytes_view vv(reinterpret_cast<const std::byte*>(v.data()), v.size());
          send(prod, "base-changelog", part, k, vv, 0);
          send(prod, "out", part, k, vv, 0);
        };
        sim_work work;
        // Timed, as Rill's tasks open their stores once they run.
        work.on_start = [&] {
          parts = open_count_states(fmt::format("{}/base-{}", scratch_dir(), run_counter()),
                                    p.partitions);
        };
        work.record = [&](kafka::producer& prod, const rill::detail::raw_record& m) {
          count_state& st = *parts[static_cast<std::size_t>(m.partition)];
          std::string key(reinterpret_cast<const char*>(m.key->data()), m.key->size());
          const std::int64_t count = st.bump(key);
          if (!cache) emit(prod, m.partition, key, count);
        };
        work.before_commit = [&](kafka::producer& prod) {
          if (!cache) return;
          for (std::size_t i = 0; i < parts.size(); ++i)
            for (const auto& [k, c] : parts[i]->pending)
              emit(prod, static_cast<std::int32_t>(i), k, c);
        };
        work.after_flush = [&] { write_pending_counts(parts); };
        side s = run_loop(*w, p, "in", p.records, work);
        s.failure = check_counts(*w, "out", p);
        return s;
      })
                 : std::function<side()>());
  return r;
}

// W6's baseline: consume a changelog from the start into RocksDB WriteBatches (10 000
// records a batch), one database per partition.
side restore_loop(sim_world& w, const params& p) {
  const double rss0 = reset_peak_rss();
  const std::int64_t start = now_ns();
  auto clients = w.cluster.clients("baseline");
  auto consumer = clients->make_consumer({{"isolation.level", "read_committed"}});
  auto parts =
      open_count_states(fmt::format("{}/base-{}", scratch_dir(), run_counter()), p.partitions);
  std::vector<kafka::partition_offset> ends, from;
  for (int i = 0; i < p.partitions; ++i) {
    ends.push_back({{"changelog", i}, 0});
    from.push_back({{"changelog", i}, 0});
  }
  must(consumer->end_offsets(ends, std::chrono::seconds(10)), "end offsets");
  must(consumer->assign(from), "assign");
  std::vector<rocksdb::WriteBatch> batches(static_cast<std::size_t>(p.partitions));
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  long remaining = 0, restored = 0;
  for (const auto& e : ends) remaining += e.offset > 0 ? 1 : 0;
  std::vector<kafka::consumed_record> batch;
  while (remaining > 0) {
    batch.clear();
    must(consumer->poll(std::chrono::milliseconds(0), 1000, batch), "poll");
    for (const auto& rec : batch) {
      const auto& m = rec.raw;
      auto part = static_cast<std::size_t>(m.partition);
      batches[part].Put(
          rocksdb::Slice(reinterpret_cast<const char*>(m.key->data()), m.key->size()),
          rocksdb::Slice(reinterpret_cast<const char*>(m.value->data()), m.value->size()));
      ++restored;
      const bool at_end = m.offset + 1 >= ends[part].offset;
      if (batches[part].Count() >= 10'000 || at_end) {
        parts[part]->db->Write(wo, &batches[part]);
        batches[part].Clear();
      }
      if (at_end) --remaining;
    }
  }
  side s;
  s.seconds = static_cast<double>(now_ns() - start) / 1e9;
  s.records_per_s = static_cast<double>(restored) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  if (restored != p.records) s.failure = fmt::format("restored {} of {}", restored, p.records);
  return s;
}

row w6(const params& p) {
  row r{"W6", fmt::format("restore a {}-entry store from its changelog [sim]", p.records)};
  r.target = ">= 0.75";
  r.label = "W6 restore 1M (sim)";
  r.baseline_name = "consume → RocksDB WriteBatch loop";
  auto world = [&](const std::string& changelog) {
    auto w = std::make_unique<sim_world>();
    w->create("in", p.partitions);
    w->create("out", p.partitions);
    w->create(changelog, p.partitions);
    for (long i = 0; i < p.records; ++i)
      w->produce(changelog, to_bytes("k" + std::to_string(i)), to_bytes(be64(1 + i % 7)));
    return w;
  };
  median_of(
      p, r,
      [&] {
        const std::string app = fmt::format("w6-{}", run_counter());
        auto w = world(app + "-counts-changelog");
        std::uint64_t restored = 0;
        // Before the figure counts: the stores hold exactly the changelog's compacted content.
        auto check = [&](runtime::task_manager& tasks) {
          w6_check c{p.records};
          tasks.for_each_running([&](runtime::stream_task& task) {
            auto* store = task.stores() == nullptr
                              ? nullptr
                              : dynamic_cast<rill::key_value_store<std::string, std::int64_t>*>(
                                    task.stores()->facade("counts"));
            if (store == nullptr) return;
            for (const auto& [k, v] : store->all()) c.add(k, v);
          });
          return c.verdict();
        };
        side s = run_rill(*w, count_topology(), p, app, p.records, &restored, check);
        if (s.failure.empty() && restored != static_cast<std::uint64_t>(p.records))
          s.failure = fmt::format("restored {} of {}", restored, p.records);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world("changelog");
        return restore_loop(*w, p);
      })
                 : std::function<side()>());
  return r;
}

row w7_row(const params& p) {
  row r{"W7", fmt::format("hopping-window count, 5 min / 1 min, emit final, {} keys, {} records "
                          "over {:.1f} h of event time [sim]",
                          p.keys, p.records, static_cast<double>(w7::time_of(p.records)) / 3.6e6)};
  r.target = ">= 0.70";
  r.label = "W7 hopping emit-final (sim)";
  r.baseline_name = "loop over the client interface + RocksDB, windows by hand";
  auto world = [&] {
    auto w = std::make_unique<sim_world>();
    w->create("in", p.partitions);
    w->create("out", p.partitions);
    for (long i = 0; i < p.records; ++i) {
      const std::string k = w7::key_of(i, p.keys);
      const std::string v = be64(i);
      w->cluster.produce("in", runtime::default_partition(bytes_view(to_bytes(k)), p.partitions),
                         to_bytes(k), to_bytes(v), w7::time_of(i));
    }
    return w;
  };
  auto verdict = [&](const sim_world& w) {
    std::vector<std::pair<std::string, std::int64_t>> emitted;
    for (const auto& rec : w.cluster.read_committed("out")) {
      if (!rec.key || !rec.value || rec.value->size() != 8) continue;
      emitted.emplace_back(
          std::string(reinterpret_cast<const char*>(rec.key->data()), rec.key->size()),
          from_be64(rec.value->data()));
    }
    return w7::check(emitted, p, [&](const std::string& k) {
      return runtime::default_partition(bytes_view(to_bytes(k)), p.partitions);
    });
  };
  median_of(
      p, r,
      [&] {
        auto w = world();
        const std::string app = fmt::format("w7-{}", run_counter());
        side s = run_rill(*w, w7::topology("in", "out"), p, app, p.records);
        if (s.failure.empty()) s.failure = verdict(*w);
        return s;
      },
      p.baseline ? std::function<side()>([&] {
        auto w = world();
        w->create("base-changelog", p.partitions);
        std::vector<std::unique_ptr<w7::partition_state>> parts;
        sim_work work;
        work.on_start = [&] {
          parts = w7::open_states(fmt::format("{}/base-{}", scratch_dir(), run_counter()),
                                  p.partitions);
        };
        work.record = [&](kafka::producer& prod, const rill::detail::raw_record& m) {
          const std::string key(reinterpret_cast<const char*>(m.key->data()), m.key->size());
          parts[static_cast<std::size_t>(m.partition)]->record(
              key, m.timestamp, [&](const std::string& wk, std::int64_t n) {
                const std::string v = be64(n);
                send(prod, "out", m.partition, bytes_view(to_bytes(wk)), bytes_view(to_bytes(v)),
                     m.timestamp);
              });
        };
        work.before_commit = [&](kafka::producer& prod) {
          for (std::size_t i = 0; i < parts.size(); ++i) {
            for (const auto& [wk, n] : parts[i]->pending) {
              const std::string v = be64(n);
              send(prod, "base-changelog", static_cast<std::int32_t>(i), bytes_view(to_bytes(wk)),
                   bytes_view(to_bytes(v)), 0);
            }
          }
        };
        work.after_flush = [&] { w7::write_pending(parts); };
        side s = run_loop(*w, p, "in", p.records, work);
        s.failure = verdict(*w);
        return s;
      })
                 : std::function<side()>());
  return r;
}

}  // namespace

void sim_workload(const std::string& id, const params& p, std::vector<row>& rows) {
  if (id == "W1")
    rows.push_back(w1(p));
  else if (id == "W2")
    rows.push_back(w2(p));
  else if (id == "W3")
    rows.push_back(w3(p));
  else if (id == "W5")
    w5_rows(
        p, p.over == "W3", true,
        [&](const params& x) { return p.over == "W3" ? w3(x, "W5") : w1(x); }, rows);
  else if (id == "W6")
    rows.push_back(w6(p));
  else if (id == "W7")
    rows.push_back(w7_row(p));
  else if (id == "W8")
    rows.push_back(sim_w8(p));
  else if (id == "W9")
    rows.push_back(sim_w9(p));
  else
    throw std::runtime_error(fmt::format("{} has no simulated-cluster mode", id));
}

void sim_suite(const params& p, std::vector<row>& rows) {
  params q = p;
  q.records = 500'000;
  sim_workload("W1", q, rows);
  q.records = 300'000;
  sim_workload("W2", q, rows);
  q.records = 1'000'000;
  q.keys = 1000;
  q.cache = false;
  sim_workload("W3", q, rows);
  q.cache = true;
  sim_workload("W3", q, rows);
  q.keys = 1'000'000;
  q.cache = false;
  sim_workload("W3", q, rows);
  params e = p;
  e.records = 300'000;
  e.over = "W1";
  sim_workload("W5", e, rows);
  e.keys = 1000;
  e.over = "W3";
  sim_workload("W5", e, rows);
  params r6 = p;
  r6.records = 1'000'000;
  sim_workload("W6", r6, rows);
  params r7 = p;
  r7.records = 1'000'000;
  r7.keys = 10'000;
  r7.cache = true;
  sim_workload("W7", r7, rows);
  params r8 = p;
  r8.records = 1'000'000;
  r8.keys = 100'000;
  r8.cache = true;
  sim_workload("W8", r8, rows);
  params r9 = p;
  r9.records = 1'000'000;
  r9.keys = 10'000;
  sim_workload("W9", r9, rows);
}

}  // namespace bench
