// The Nexmark queries on the simulated cluster (src/sim): Rill's stream thread stepped on this
// thread, no broker threads, no network, no librdkafka. The input is preloaded; the clock runs
// from the thread's start until the app's group has committed past every record of the input
// and of its repartition topics, and the thread has closed (final commit included). The
// cluster keeps its logs, writes transaction markers and filters read_committed, so Rill pays
// here for its log and (under exactly-once) its transactions, where Flink's Nexmark reads
// from a generator in the same process.
#include <chrono>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "runner.hpp"
#include "src/runtime/app_settings.hpp"
#include "src/runtime/internal_topics.hpp"
#include "src/runtime/partitioner.hpp"
#include "src/runtime/stream_thread.hpp"
#include "src/sim/cluster.hpp"
#include "state/state_directory.hpp"
#include "state/task_db.hpp"
#include "topology/compiled.hpp"

namespace nexmark {

namespace {

namespace runtime = rill::runtime;

constexpr const char* input_topic = "nexmark-events";

std::string scratch(const std::string& app) {
  return fmt::format("/tmp/rill-nexmark-{}/{}", ::getpid(), app);
}

struct world {
  rill::sim::cluster cluster;
  std::map<std::string, std::int32_t> partitions;
  void create(const std::string& topic, std::int32_t n) {
    cluster.create_topic(topic, n);
    partitions[topic] = n;
  }
};

void preload(world& w, const run_params& p) {
  const auto key_serde = rill::default_serde<std::int64_t>();
  const auto value_serde = rill::default_serde<event>();
  rill::bytes k, v;
  generate(p.gen, [&](const event& e) {
    key_serde.encode(event_key(e), k, {input_topic, true, nullptr});
    value_serde.encode(e, v, {input_topic, false, nullptr});
    w.cluster.produce(input_topic, runtime::default_partition(rill::bytes_view(k), p.partitions), k,
                      v, event_time(e));
  });
}

// Steps one stream thread until the group has drained its sources, then closes it.
run_result run_app(world& w, const rill::topology& t, const run_params& p, const std::string& app) {
  rill::config cfg{{"application.id", app},
                   {"processing.guarantee", p.guarantee},
                   {"commit.interval.ms", std::to_string(p.commit_ms)},
                   {"log.level", "warn"}};
  if (!p.cache) cfg.set("statestore.cache.max.bytes", "0");
  const auto& compiled = t.compiled();
  runtime::app_shared s = runtime::settings_from(compiled, cfg);
  auto internal = runtime::internal_partition_counts(compiled, app, [&](const std::string& topic) {
    auto it = w.partitions.find(topic);
    return it == w.partitions.end() ? std::nullopt : std::optional(it->second);
  });
  std::vector<std::string> sources{input_topic};
  for (const auto& [topic, n] : internal) {
    if (!w.partitions.contains(topic)) w.create(topic, n);
    if (topic.ends_with("-repartition")) sources.push_back(topic);
  }
  s.partition_counts = w.partitions;
  rill::state::state_directory dir(scratch(app));
  rill::state::rocksdb_env env(256u << 20);
  s.state_directory = &dir;
  s.rocksdb = &env;
  auto clients = w.cluster.clients("rill");
  s.clients = clients.get();
  s.client_id = app;
  s.transactional_id_prefix = app + "-bench";
  s.real_backoff = false;

  run_result r;
  const double rss0 = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  const auto start = std::chrono::steady_clock::now();
  auto last_tick = start;
  {
    runtime::stream_thread thread(1, s, nullptr, nullptr);
    thread.set_up();
    long steps = 0;
    bool drained = false;
    while (!drained && ++steps < 100'000'000) {
      thread.step();
      // The cluster's clock follows real time (sessions, transaction timeouts).
      const auto now = std::chrono::steady_clock::now();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_tick);
      if (ms.count() > 0) {
        w.cluster.advance(ms.count());
        last_tick += ms;
      }
      if (steps % 64 == 0) drained = w.cluster.drained(app, sources);
    }
    thread.tear_down();
    if (!drained)
      r.failure = fmt::format("stalled after {} records", thread.counters().processed.load());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_s = process_cpu_s() - cpu0;
  r.peak_rss_mb = peak_rss_mb();
  r.rss_growth_mb = r.peak_rss_mb - rss0;
  r.events = p.gen.events;
  return r;
}

std::vector<output_record> read_output(const world& w, const std::string& topic) {
  std::vector<output_record> out;
  for (auto& rec : w.cluster.read_committed(topic)) out.push_back({rec.key, rec.value});
  return out;
}

}  // namespace

std::vector<run_result> run_sim(const std::vector<std::string>& ids, const run_params& p) {
  std::vector<std::vector<std::string>> apps;
  if (p.smoke)
    apps.push_back(ids);
  else
    for (const auto& id : ids) apps.push_back({id});
  std::vector<run_result> results;
  for (const auto& queries : apps) {
    world w;
    w.create(input_topic, p.partitions);
    const std::string prefix = "nexmark-out-";
    for (const auto& id : queries) w.create(prefix + id, p.partitions);
    preload(w, p);
    const std::string app = fmt::format("nexmark-{}", p.smoke ? "all" : queries.front());
    run_result r =
        run_app(w, build_topology(queries, input_topic, prefix, options_for(p.gen)), p, app);
    r.query = p.smoke ? "all" : queries.front();
    std::vector<std::vector<output_record>> outputs;
    for (const auto& id : queries) {
      outputs.push_back(read_output(w, prefix + id));
      r.outputs += static_cast<long>(outputs.back().size());
      r.per_query +=
          fmt::format("{}{} {}", r.per_query.empty() ? "" : ", ", id, outputs.back().size());
    }
    if (r.failure.empty()) r.failure = check_outputs(queries, outputs, p.gen, p.partitions);
    results.push_back(r);
  }
  std::filesystem::remove_all(fmt::format("/tmp/rill-nexmark-{}", ::getpid()));
  return results;
}

}  // namespace nexmark
