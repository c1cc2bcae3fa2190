// W4: the bank's command processing, Rill against a hand-written loop (w4_baseline.cpp).
#include "w4_bank.hpp"

namespace bench {

namespace {

// Transfers come back through the feedback topic, so the count of processed records says
// little: the clock stops when the outputs show every command answered and money conserved
// (w4_bank::await_answers).
side rill_once(const params& p, const std::vector<bank::command>& commands) {
  const int n = run_counter();
  const bank::topics topics = w4_bank::preload(fmt::format("bench{}-", n), p.partitions, commands);
  rill::streams_app a(bank::topology(topics), rill_config(p, fmt::format("bench-bank-{}", n)));
  const double rss0 = reset_peak_rss();
  const double cpu0 = process_cpu_s();
  a.start();
  assignment_clock assigned(a);
  const w4_bank::answered done =
      w4_bank::await_answers(commands, topics, [&] { return a.state() == rill::app_state::error; });
  side s;
  s.cpu_s = process_cpu_s() - cpu0;
  a.close();
  s.seconds = static_cast<double>(done.at - assigned.at()) / 1e9;
  s.records_per_s = static_cast<double>(commands.size()) / s.seconds;
  s.peak_rss_mb = status_mb("VmHWM:");
  s.rss_growth_mb = s.peak_rss_mb - rss0;
  s.failure = done.failure();
  return s;
}

}  // namespace

row w4(const params& p) {
  row r{"W4",
        fmt::format("the bank's command processing, {} commands, {} accounts", p.records, p.keys)};
  r.target = ">= 0.70";
  r.label = "W4 bank";
  r.baseline_name = "librdkafka loop + RocksDB, same decisions and JSON serde";
  const auto commands =
      bank::generate(static_cast<std::size_t>(p.records), static_cast<std::size_t>(p.keys));
  // Each side the best of p.repeat runs, alternating, each on topics of its own.
  std::optional<side> rill_best, base_best;
  for (int k = 0; k < p.repeat; ++k) {
    if (p.rill) keep_best(rill_best, rill_once(p, commands));
    if (p.baseline) keep_best(base_best, w4_bank::baseline_once(p, commands));
  }
  r.rill = rill_best.value_or(side{});
  r.base = base_best;
  return r;
}

}  // namespace bench
