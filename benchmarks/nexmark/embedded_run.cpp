// The Nexmark queries on the embedded broker (librdkafka's mock cluster in this process,
// `bootstrap.servers=embedded`): the input is preloaded once into one topic; each query runs
// as an app of its own (all in one in smoke mode) with a fresh application id and output
// topic. The clock runs from the app's first assignment (the mock's group join, about 3 s, is
// left out) until the last record is processed: the app has processed at least every input
// record, holds none in its queues, and processes nothing more for 2 s (that wait is not
// counted). The process's CPU includes the broker's threads.
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "../e2e_embedded.hpp"
#include "runner.hpp"
#include "src/runtime/partitioner.hpp"

namespace nexmark {

namespace {

using steady = std::chrono::steady_clock;

rill::config app_config(const run_params& p, const std::string& app) {
  rill::config c{{"application.id", app},
                 {"bootstrap.servers", "embedded"},
                 {"processing.guarantee", p.guarantee},
                 {"commit.interval.ms", std::to_string(p.commit_ms)},
                 {"state.dir", fmt::format("/tmp/rill-nexmark-{}/state", ::getpid())},
                 {"consumer.session.timeout.ms", "6000"},
                 {"consumer.fetch.wait.max.ms", "100"},
                 {"log.level", "warn"}};
  if (!p.cache) c.set("statestore.cache.max.bytes", "0");
  c.apply_environment();
  return c;
}

void preload(const std::string& topic, const run_params& p) {
  bench::create_topic(topic, p.partitions);
  bench::rk_ptr prod = bench::make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
  const auto key_serde = rill::default_serde<std::int64_t>();
  const auto value_serde = rill::default_serde<event>();
  rill::bytes k, v;
  generate(p.gen, [&](const event& e) {
    key_serde.encode(event_key(e), k, {topic, true, nullptr});
    value_serde.encode(e, v, {topic, false, nullptr});
    bench::produce(prod.get(), topic,
                   rill::runtime::default_partition(rill::bytes_view(k), p.partitions), k.data(),
                   k.size(), v.data(), v.size(), event_time(e));
  });
  bench::flush(prod.get());
}

run_result run_app(rill::topology t, const run_params& p, const std::string& app) {
  rill::streams_app a(std::move(t), app_config(p, app));
  run_result r;
  r.events = p.gen.events;
  const double rss0 = reset_peak_rss();
  a.start();
  const auto deadline = steady::now() + std::chrono::minutes(10);
  while (a.counters().rebalances == 0 && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  const auto start = steady::now();
  const double cpu0 = process_cpu_s();
  auto last_change = start;
  double cpu_at_change = cpu0;
  std::uint64_t seen = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const rill::app_counters c = a.counters();
    const auto now = steady::now();
    if (c.processed != seen) {
      seen = c.processed;
      last_change = now;
      cpu_at_change = process_cpu_s();
    }
    const bool quiet = now - last_change > std::chrono::seconds(2);
    if (seen >= static_cast<std::uint64_t>(p.gen.events) && c.buffered == 0 && quiet) break;
    if (a.state() == rill::app_state::error || now > deadline) {
      r.failure = fmt::format("stopped at {} records processed ({})", seen, to_string(a.state()));
      break;
    }
  }
  r.seconds = std::chrono::duration<double>(last_change - start).count();
  r.cpu_s = cpu_at_change - cpu0;
  r.peak_rss_mb = peak_rss_mb();
  r.rss_growth_mb = r.peak_rss_mb - rss0;
  a.close();
  return r;
}

std::vector<output_record> read_output(const std::string& topic, int partitions) {
  std::vector<output_record> out;
  auto copy = [](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    return rill::bytes(b, b + n);
  };
  bench::read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    output_record r;
    if (m.key) r.key = copy(m.key, m.key_len);
    if (m.payload) r.value = copy(m.payload, m.len);
    out.push_back(std::move(r));
  });
  return out;
}

}  // namespace

std::vector<run_result> run_embedded(const std::vector<std::string>& ids, const run_params& p) {
  const int run = bench::run_counter();
  const std::string input = fmt::format("nexmark-events-{}-{}", ::getpid(), run);
  preload(input, p);
  std::vector<std::vector<std::string>> apps;
  if (p.smoke)
    apps.push_back(ids);
  else
    for (const auto& id : ids) apps.push_back({id});
  std::vector<run_result> results;
  for (const auto& queries : apps) {
    const std::string app =
        fmt::format("nexmark-{}-{}-{}", p.smoke ? "all" : queries.front(), ::getpid(), run);
    const std::string prefix = app + "-out-";
    for (const auto& id : queries) bench::create_topic(prefix + id, p.partitions);
    run_result r = run_app(build_topology(queries, input, prefix, options_for(p.gen)), p, app);
    r.query = p.smoke ? "all" : queries.front();
    std::vector<std::vector<output_record>> outputs;
    for (const auto& id : queries) {
      outputs.push_back(read_output(prefix + id, p.partitions));
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
