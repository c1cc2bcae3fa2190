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
//   bench_e2e W3 --broker 127.0.0.1:P --control 127.0.0.1:C   on a standalone rill-broker
#include "e2e_embedded.hpp"

namespace bench {

std::string fmt_rate(double v) {
  return v >= 1e6 ? fmt::format("{:.2f} M", v / 1e6) : fmt::format("{:.0f} k", v / 1e3);
}

// The wire limit's line under a row: its rate, Rill and the baseline as fractions of it,
// and each side's CPU-seconds per million records (the whole process, broker included).
void print_wire(const row& r) {
  const side& w = *r.wire;
  if (!w.failure.empty()) {
    fmt::print("     wire limit WRONG: {}\n", w.failure);
    return;
  }
  auto frac = [&](const side& s) {
    return s.failure.empty() && s.seconds > 0
               ? fmt::format("{:.2f}", s.records_per_s / w.records_per_s)
               : std::string("-");
  };
  auto cpu = [&](const side& s) {
    return s.seconds > 0 ? fmt::format("{:.2f}", s.cpu_s * 1e6 / (s.records_per_s * s.seconds))
                         : std::string("-");
  };
  fmt::print(
      "     wire limit {}/s: Rill {} of it, baseline {}; CPU s per M records Rill {} | "
      "baseline {} | wire {}\n",
      fmt_rate(w.records_per_s), frac(r.rill), r.base ? frac(*r.base) : "-", cpu(r.rill),
      r.base ? cpu(*r.base) : "-", cpu(w));
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
    if (r.wire) print_wire(r);
    if (r.rill.runs > 1)
      fmt::print(
          "     median of {} runs a side; spread (fastest - slowest) / median: Rill {:.0f}%{}\n",
          r.rill.runs, 100 * r.rill.spread,
          r.base ? fmt::format(", baseline {:.0f}%", 100 * r.base->spread) : "");
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
  rill::set_log_level(rill::log_level::warn);
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: bench_e2e all|W1|W1-metrics|W2|W3|W4|W5|W6|W7|W8|W9 [--records N] [--keys N]\n"
        "       [--value-size B] [--partitions N] [--threads N]\n"
        "       [--guarantee at_least_once|exactly_once_v2] [--commit-ms N] [--cache on|off]\n"
        "       [--fetch-wait-ms N (every consumer's fetch.wait.max.ms; 100)]\n"
        "       [--latency on|off] [--over W1|W3]\n"
        "       [--repeat N] [--rate-fraction F] [--broker embedded|sim|HOST:PORT]\n"
        "       [--control HOST:PORT (with --broker HOST:PORT: the rill-broker's control)]\n"
        "       [--rill on|off] [--baseline on|off] [--clock records] [--trace on]\n"
        "       [--wake on|off]\n"
        "       [--tsv FILE]\n");
    return 2;
  }
  params p;
  p.workload = argv[1];
  std::string tsv;
  int repeat = 0;  // --repeat; else the median of 5 on the simulated cluster, best of 2 embedded
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
    else if (k == "--fetch-wait-ms")
      p.fetch_wait_ms = std::stoi(v);
    else if (k == "--cache")
      p.cache = v == "on";
    else if (k == "--latency")
      p.latency = v == "on";
    else if (k == "--tsv")
      tsv = v;
    else if (k == "--over")
      p.over = v;
    else if (k == "--repeat")
      repeat = std::stoi(v);
    else if (k == "--rate-fraction")
      p.rate_fraction = std::stod(v);
    else if (k == "--broker")
      p.broker = v;
    else if (k == "--control")
      external_control = v;
    else if (k == "--baseline")
      p.baseline = v == "on";
    else if (k == "--rill")
      p.rill = v == "on";
    else if (k == "--wake")
      p.wake = v == "on";
    else if (k == "--trace")
      p.trace = v == "on";
    else if (k == "--clock")
      p.clock_by_records = v == "records";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (p.broker != "embedded" && p.broker != "sim") {
    // A standalone rill-broker (the issue's own setting): W1 and W3, whose three sides make
    // their topics through its control port.
    if (external_control.empty() || (p.workload != "W1" && p.workload != "W3")) {
      std::fprintf(stderr,
                   "--broker %s: a rill-broker's bootstrap.servers needs --control HOST:PORT "
                   "(its broker.control) and runs W1 or W3\n",
                   p.broker.c_str());
      return 2;
    }
    external_bootstrap = p.broker;
  } else if (!external_control.empty()) {
    std::fprintf(stderr, "--control goes with --broker HOST:PORT\n");
    return 2;
  }
  p.repeat = repeat > 0 ? repeat : p.broker == "sim" ? 5 : 2;
  std::vector<row> rows;
  auto run = [&](const std::string& id, params q) {
    fmt::print("running {} ...\n", id);
    std::fflush(stdout);
    if (id == "W1") {
      rows.push_back(w1(q));
      if (q.latency) w1_latency(q, rows.back());
    } else if (id == "W1-metrics") {
      rows.push_back(w1_metrics(q));
    } else if (id == "W2") {
      rows.push_back(w2(q));
    } else if (id == "W3") {
      rows.push_back(w3(q));
    } else if (id == "W4") {
      rows.push_back(w4(q));
    } else if (id == "W6") {
      rows.push_back(w6(q));
    } else if (id == "W7") {
      rows.push_back(w7_row(q));
    } else if (id == "W8") {
      rows.push_back(w8_row(q));
    } else if (id == "W9") {
      rows.push_back(w9_row(q));
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
    params r7 = p;
    r7.records = 1'000'000;
    r7.keys = 10'000;
    r7.cache = true;
    run("W7", r7);
    // The mock keeps about 5 MiB per partition: the joins' inputs and outputs are capped
    // at 300 000 records, as W7's are.
    params r8 = p;
    r8.records = 300'000;
    r8.keys = 100'000;
    r8.cache = true;
    run("W8", r8);
    params r9 = p;
    r9.records = 300'000;
    r9.keys = 10'000;
    run("W9", r9);
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
