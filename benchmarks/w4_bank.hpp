// W4, the bank's command processing (examples/bank), as its two sides share it: the commands
// preloaded on a side's own topics, and the clock's stop (the outputs read as they arrive
// until they show every command answered and money conserved). Rill's side is w4.cpp, the
// hand-written baseline w4_baseline.cpp.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "e2e_embedded.hpp"
#include "examples/bank/bank.hpp"
#include "examples/bank/scenario.hpp"

namespace bench::w4_bank {

// A side's topics (prefix "bench<n>-" or "bench<n>-base-"), created, the commands on them.
inline bank::topics preload(const std::string& prefix, int partitions,
                            const std::vector<bank::command>& commands) {
  bank::topics topics{prefix};
  create_topic(topics.commands(), partitions);
  create_topic(topics.events(), partitions);
  create_topic(topics.balances(), partitions);
  rill::topic_writer<std::string, bank::command> w("embedded");
  for (const auto& c : commands) w.send(topics.commands(), c.account, c);
  w.flush(std::chrono::seconds(60));
  return topics;
}

struct answered {
  bank::check_result check;
  std::int64_t at = 0;  // now_ns() when the check first held; 0 if it never did
  std::string failure() const {
    if (at != 0) return "";
    return check.summary() + (check.problems.empty() ? "" : "; " + check.problems.front());
  }
};

// Reads the events and balances as they arrive until they pass bank::check, `failed()` says
// the side has stopped, or 3 minutes pass. Every ~100 ms it counts the commands with a final
// answer (every event but a debit is one), and runs bank::check, which reads every output
// again, only once all have one: the reading costs both sides little and the same.
inline answered await_answers(const std::vector<bank::command>& commands, const bank::topics& t,
                              const std::function<bool()>& failed) {
  rill::topic_reader<std::string, bank::event> events("embedded", t.events());
  rill::topic_reader<std::string, std::optional<std::int64_t>> balances("embedded", t.balances());
  bank::outputs o;
  std::unordered_set<std::string> finished;  // command ids
  answered a;
  const auto deadline = clock::now() + std::chrono::minutes(3);
  while (clock::now() < deadline && !failed()) {
    for (auto& e : events.read(100000, std::chrono::milliseconds(100))) {
      if (e.value.type != "transfer_debited") finished.insert(e.value.command_id);
      o.events.push_back(std::move(e));
    }
    for (auto& b : balances.read(100000, std::chrono::milliseconds(10)))
      o.balances.push_back(std::move(b));
    if (finished.size() < commands.size()) continue;
    a.check = bank::check(commands, o);
    if (a.check.ok()) {
      a.at = now_ns();
      return a;
    }
  }
  a.check = bank::check(commands, o);
  if (a.check.ok()) a.check.problems.push_back("answered only after the side stopped");
  a.at = 0;
  return a;
}

// One run of the hand-written baseline on topics of its own (w4_baseline.cpp).
side baseline_once(const params& p, const std::vector<bank::command>& commands);

}  // namespace bench::w4_bank
