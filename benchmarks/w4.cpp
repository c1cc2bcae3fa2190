// W4: the bank's command processing.
#include "e2e_embedded.hpp"
#include "examples/bank/bank.hpp"
#include "examples/bank/scenario.hpp"

namespace bench {

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

}  // namespace bench
