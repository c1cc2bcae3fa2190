// The bank's answers checked one by one: each account's events are replayed in the order
// of their versions (the order the account answered in) against a reference account,
// written apart from bank.hpp's rules so a fault in either shows, and every answer must be
// the one a correct bank gives at that point: the same event for each command, the same
// reason for each rejection, never a negative balance. The replay is the fault-free
// execution of the order each account answered in; which order that is may legitimately
// differ from run to run, since a transfer's credit leg reaches its account through a topic.
//
// Exactly-once: every command is answered once, and each account's log is in version order.
// At-least-once: a command delivered again is answered again. The same answer (with the
// same version: the account remembered it) is a duplicate, and an answer sent again after
// a crash may come after later ones in the log, hence the sort by version. A different
// answer means the first was given by state that the crash lost; the later one counts (the
// bank's state went on from it), and an account's balance is the sum of the answers that
// count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "bank.hpp"
#include "scenario.hpp"

namespace bank {

struct replay_result {
  std::size_t events = 0;
  std::size_t duplicates = 0;                    // the same answer to the same command again
  std::size_t re_answered = 0;                   // a different answer to a command answered before
  std::size_t wrong = 0;                         // answers a correct bank would not have given
  std::size_t negative = 0;                      // answers after which a balance was below zero
  std::size_t out_of_order = 0;                  // events in the log after one of a higher version
  std::map<std::string, std::int64_t> balances;  // per account, from the answers that count
  std::int64_t deposits = 0;                     // by the answers that count
  std::int64_t withdrawals = 0;
  std::vector<std::string> problems;  // the first few, explained

  std::int64_t total() const {
    std::int64_t sum = 0;
    for (const auto& [account, balance] : balances) sum += balance;
    return sum;
  }
  // No money made or lost: every debited transfer was credited or refunded.
  bool conserved() const { return total() == deposits - withdrawals; }
  std::size_t negative_at_end() const {
    std::size_t n = 0;
    for (const auto& [account, balance] : balances) n += balance < 0 ? 1 : 0;
    return n;
  }
  bool exact() const {
    return duplicates == 0 && re_answered == 0 && wrong == 0 && negative == 0 &&
           out_of_order == 0 && conserved();
  }
  std::string summary() const {
    return fmt::format(
        "replay: {} events over {} accounts, {} wrong answers, {} duplicates, {} commands "
        "answered again differently, {} events after a later version, {} negative balances on "
        "the way ({} at the end); {} held = deposits {} - withdrawals {} ({})",
        events, balances.size(), wrong, duplicates, re_answered, out_of_order, negative,
        negative_at_end(), total(), deposits, withdrawals,
        conserved() ? "money conserved" : "MONEY NOT CONSERVED");
  }
};

namespace detail {

struct reference_account {
  bool open = false;
  std::int64_t balance = 0;
};

// What a correct bank answers, as "event type|reason".
inline std::string expected(const command& c, const std::string& leg, const reference_account& a) {
  if (leg == "refund") return "transfer_refunded|";
  // A credit to an account that is not open is answered on the source, as a refund.
  if (leg == "credit") return a.open ? "transfer_credited|" : "refund_requested|no such account";
  if (leg == "open") return a.open ? "rejected|account already open" : "opened|";
  if (!a.open) return "rejected|no such account";
  if (c.amount <= 0) return "rejected|amount must be positive";
  if (leg == "deposit") return "deposited|";
  if (leg == "transfer" && c.target == c.account)
    return "rejected|cannot transfer to the same account";
  if (leg != "withdraw" && leg != "transfer") return "rejected|unknown command '" + leg + "'";
  if (a.balance < c.amount) return "rejected|insufficient funds";
  return leg == "withdraw" ? "withdrawn|" : "transfer_debited|";
}

// Which part of its command an event answers, and the account it must be keyed by.
inline std::pair<std::string, std::string> leg_of(const command& c, const event& e) {
  if (e.type == "transfer_credited") return {"credit", c.target};
  if (e.type == "transfer_refunded") return {"refund", c.account};
  return {c.type, c.account};
}

// One account's events in the order of its versions (the order it answered in), and how
// many came in the log after an event of a higher version.
inline std::vector<const rill::kafka_record<std::string, event>*> history(
    std::vector<const rill::kafka_record<std::string, event>*> log, std::size_t& out_of_order) {
  std::int64_t highest = 0;
  for (const auto* rec : log) {
    if (rec->value.version < highest) ++out_of_order;
    highest = std::max(highest, rec->value.version);
  }
  std::stable_sort(log.begin(), log.end(), [](const auto* x, const auto* y) {
    return x->value.version < y->value.version;
  });
  return log;
}

}  // namespace detail

inline replay_result replay(const std::vector<command>& commands, const outputs& o) {
  std::map<std::string, const command*> by_id;
  for (const auto& c : commands) by_id[c.id] = &c;
  replay_result r;
  auto problem = [&](std::string what) {
    if (r.problems.size() < 10) r.problems.push_back(std::move(what));
  };
  std::map<std::string, std::vector<const rill::kafka_record<std::string, event>*>> logs;
  for (const auto& rec : o.events) logs[rec.key].push_back(&rec);
  // Per (command, leg): the answer that counts, and the balance change it made.
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::int64_t>> answered;
  for (auto& [name, log] : logs) {
    detail::reference_account account;
    for (const auto* rec : detail::history(std::move(log), r.out_of_order)) {
      const event& e = rec->value;
      ++r.events;
      auto c = by_id.find(e.command_id);
      if (c == by_id.end()) {
        ++r.wrong;
        problem(
            fmt::format("event {} answers command {}, which was never sent", e.type, e.command_id));
        continue;
      }
      const auto [leg, owner] = detail::leg_of(*c->second, e);
      if (name != owner) {
        ++r.wrong;
        problem(fmt::format("{} for command {} is keyed {}, not {}", e.type, e.command_id, name,
                            owner));
        continue;
      }
      const std::string got = e.type + "|" + e.reason;
      auto before = answered.find({e.command_id, leg});
      if (before != answered.end()) {
        if (before->second.first == got) {
          ++r.duplicates;
          continue;
        }
        ++r.re_answered;  // the first answer's state was lost: take its change back
        account.balance -= before->second.second;
        if (e.type == "opened") account.open = false;
      }
      const std::string want = detail::expected(*c->second, leg, account);
      if (got != want) {
        ++r.wrong;
        problem(fmt::format(
            "command {} ({} {} on {}, balance {}, version {}): answered {}, a "
            "correct bank answers {}",
            e.command_id, leg, c->second->amount, name, account.balance, e.version, got, want));
      }
      // The bank's state goes on from its own answer, right or wrong.
      const std::int64_t applied = balance_change(e);
      account.balance += applied;
      if (e.type == "opened") account.open = true;
      answered[{e.command_id, leg}] = {got, applied};
      if (account.balance < 0) {
        ++r.negative;
        problem(fmt::format("{} is at {} after command {}", name, account.balance, e.command_id));
      }
    }
    r.balances[name] = account.balance;
  }
  for (const auto& [command_leg, answer] : answered) {
    if (answer.first.starts_with("deposited|")) r.deposits += answer.second;
    if (answer.first.starts_with("withdrawn|")) r.withdrawals -= answer.second;
  }
  return r;
}

}  // namespace bank
