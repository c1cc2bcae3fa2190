// Per-record cost of a 5-operation stateless chain (filter, map_values, filter_not,
// map_values, peek), measured four ways in one run:
//   direct: the same five lambdas called in a plain loop (the baseline the issue names);
//   direct_serde: that loop plus the serde work the engine must do (key and value from
//           bytes, result to bytes): the fair baseline for the engine;
//   task:   Rill's engine path: a stream task deserializes at the source, runs the chain,
//           serializes at the sink and hands bytes to a sender that drops them;
//   driver: the public test driver, which also serializes input, copies bytes in and
//           captures output (what a user's topology test pays).
// Prints each against the baseline as a ratio (time per record / baseline time per record).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>

#include <rill/streams_builder.hpp>
#include <rill/testing/test_driver.hpp>

#include "src/runtime/stream_task.hpp"

namespace {

constexpr int batch = 10'000;

// The five operations, shared by all three variants.
const auto keep = [](const std::string&, std::int64_t v) { return v % 7 != 0; };
const auto triple = [](std::int64_t v) { return v * 3; };
const auto drop_fives = [](const std::string&, std::int64_t v) { return v % 5 == 0; };
const auto plus_one = [](std::int64_t v) { return v + 1; };
std::int64_t seen = 0;
const auto count = [](const std::string&, std::int64_t v) { seen += v; };

rill::topology chain() {
  rill::streams_builder b;
  b.stream<std::string, std::int64_t>("in")
      .filter(keep)
      .map_values(triple)
      .filter_not(drop_fives)
      .map_values(plus_one)
      .peek(count)
      .to("out");
  return b.build();
}

std::vector<std::pair<std::string, std::int64_t>> inputs() {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (int i = 0; i < batch; ++i) out.emplace_back("key-" + std::to_string(i % 1000), i);
  return out;
}

void direct(benchmark::State& state) {
  auto in = inputs();
  std::int64_t out = 0;
  for (auto _ : state) {
    for (const auto& [k, v0] : in) {
      if (!keep(k, v0)) continue;
      std::int64_t v = triple(v0);
      if (drop_fives(k, v)) continue;
      v = plus_one(v);
      count(k, v);
      out += v;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// The baseline with the same serde work as the engine: bytes in, bytes out.
void direct_serde(benchmark::State& state) {
  std::vector<std::pair<rill::bytes, rill::bytes>> raw;
  for (const auto& [k, v] : inputs()) {
    rill::bytes vb;
    rill::serdes::number_serde<std::int64_t>{}.serialize(v, vb, {});
    raw.emplace_back(rill::to_bytes(k), std::move(vb));
  }
  const rill::serdes::number_serde<std::int64_t> serde;
  rill::bytes key_out;
  rill::bytes value_out;
  std::size_t sent = 0;
  for (auto _ : state) {
    for (const auto& [kb, vb] : raw) {
      std::string k(rill::as_chars(kb));
      std::int64_t v = serde.deserialize(vb, {});
      if (!keep(k, v)) continue;
      v = triple(v);
      if (drop_fives(k, v)) continue;
      v = plus_one(v);
      count(k, v);
      key_out.clear();
      rill::append(key_out, k);
      value_out.clear();
      serde.serialize(v, value_out, {});
      sent += key_out.size() + value_out.size();
    }
    benchmark::DoNotOptimize(sent);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

struct null_sender final : rill::detail::record_sender {
  std::size_t bytes = 0;
  void send(std::string_view, std::int32_t, std::optional<rill::bytes_view> key,
            std::optional<rill::bytes_view> value, const rill::headers&,
            rill::timestamp_ms) override {
    bytes += (key ? key->size() : 0) + (value ? value->size() : 0);
  }
  std::int32_t partition_count(std::string_view) override { return 1; }
};

void task(benchmark::State& state) {
  rill::topology t = chain();
  null_sender sender;
  rill::runtime::task_settings settings;
  settings.application_id = "bench";
  settings.wall_clock = [] { return rill::timestamp_ms{0}; };
  rill::runtime::stream_task task({0, 0}, t.compiled(), settings, sender);
  task.initialize();
  // Serialized input, as a consumer would hand it over.
  std::vector<std::pair<rill::bytes, rill::bytes>> raw;
  for (const auto& [k, v] : inputs()) {
    rill::bytes vb;
    rill::serdes::number_serde<std::int64_t>{}.serialize(v, vb, {});
    raw.emplace_back(rill::to_bytes(k), std::move(vb));
  }
  std::int64_t offset = 0;
  for (auto _ : state) {
    for (const auto& [k, v] : raw) {
      rill::kafka::consumed_record r;
      r.raw.offset = offset++;
      r.raw.key = rill::bytes_view(k);
      r.raw.value = rill::bytes_view(v);
      task.add_record(0, std::move(r));
      task.process_next();
    }
  }
  benchmark::DoNotOptimize(sender.bytes);
  state.SetItemsProcessed(state.iterations() * batch);
}

void driver(benchmark::State& state) {
  rill::testing::test_driver d(chain());
  auto in = d.input_topic<std::string, std::int64_t>("in");
  auto out = d.output_topic<std::string, std::int64_t>("out");
  auto data = inputs();
  for (auto _ : state) {
    for (const auto& [k, v] : data) in.pipe(k, v);
    state.PauseTiming();
    d.captured("out").clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

BENCHMARK(direct);
BENCHMARK(direct_serde);
BENCHMARK(task);
BENCHMARK(driver);

// Collects ns/record per benchmark to print ratios against the baseline.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      ns_per_record[r.benchmark_name()] = r.GetAdjustedRealTime() / batch;
    }
  }
  std::map<std::string, double> ns_per_record;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& r = reporter.ns_per_record;
  if (r.contains("direct")) {
    const double base = r["direct"];
    std::printf("\nstateless 5-op chain, ns per record, and ratio to each baseline:\n");
    std::printf("  %-13s %9s %12s %18s\n", "", "ns/record", "vs direct", "vs direct_serde");
    for (const char* name : {"direct", "direct_serde", "task", "driver"}) {
      if (!r.contains(name)) continue;
      std::printf("  %-13s %9.1f %11.1fx", name, r[name], r[name] / base);
      if (r.contains("direct_serde")) std::printf(" %17.1fx", r[name] / r["direct_serde"]);
      std::printf("\n");
    }
  }
  benchmark::Shutdown();
}
