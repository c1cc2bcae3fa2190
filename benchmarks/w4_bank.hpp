// W4, the bank's command processing (examples/bank), as its two sides share it: the commands
// preloaded on a side's own topics, and the clock's stop (the outputs read as they arrive
// until they show every command answered and money conserved). Rill's side is w4.cpp, the
// hand-written baseline w4_baseline.cpp.
#pragma once

#include <atomic>
#include <functional>
#include <string>
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
};

// Reads the events and balances as they arrive, checked every ~100 ms, until the check holds,
// `failed()` says the side has stopped, or 3 minutes pass.
inline answered await_answers(const std::vector<bank::command>& commands, const bank::topics& t,
                              const std::function<bool()>& failed) {
  rill::topic_reader<std::string, bank::event> events("embedded", t.events());
  rill::topic_reader<std::string, std::optional<std::int64_t>> balances("embedded", t.balances());
  bank::outputs o;
  answered a;
  const auto deadline = clock::now() + std::chrono::minutes(3);
  while (clock::now() < deadline && !failed()) {
    for (auto& e : events.read(100000, std::chrono::milliseconds(100)))
      o.events.push_back(std::move(e));
    for (auto& b : balances.read(100000, std::chrono::milliseconds(10)))
      o.balances.push_back(std::move(b));
    a.check = bank::check(commands, o);
    if (a.check.ok()) {
      a.at = now_ns();
      break;
    }
  }
  return a;
}

// One run of the hand-written baseline on topics of its own (w4_baseline.cpp).
side baseline_once(const params& p, const std::vector<bank::command>& commands);

}  // namespace bench::w4_bank
