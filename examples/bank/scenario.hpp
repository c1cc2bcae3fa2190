// The bank's scenario: a generator of commands and a checker of the invariants.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bank.hpp"

namespace bank {

// Deterministic for (count, accounts, seed): every account is opened first; then deposits,
// withdrawals and transfers at random, some of them invalid (unknown accounts, bad amounts,
// transfers to accounts that do not exist, opening twice).
inline std::vector<command> generate(std::size_t count, std::size_t accounts,
                                     std::uint32_t seed = 7) {
  std::vector<command> out;
  std::uint64_t state = seed;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  auto account_name = [](std::size_t i) { return fmt::format("acct-{:04}", i); };
  for (std::size_t i = 0; i < accounts && out.size() < count; ++i) {
    out.push_back({fmt::format("c{}", out.size()), "open", account_name(i), "", 0});
  }
  while (out.size() < count) {
    command c;
    c.id = fmt::format("c{}", out.size());
    c.account = account_name(next() % accounts);
    const std::uint32_t dice = next() % 100;
    c.amount = static_cast<std::int64_t>(next() % 20000) + 1;
    if (dice < 45) {
      c.type = "deposit";
    } else if (dice < 65) {
      c.type = "withdraw";
    } else if (dice < 92) {
      c.type = "transfer";
      c.target = dice < 90 ? account_name(next() % accounts) : fmt::format("ghost-{}", next() % 10);
    } else if (dice < 95) {
      c.type = "deposit";
      c.amount = -c.amount;  // rejected
    } else if (dice < 97) {
      c.type = "withdraw";
      c.account = fmt::format("nobody-{}", next() % 10);  // rejected: no account
    } else {
      c.type = "open";  // rejected: already open
      c.amount = 0;
    }
    out.push_back(std::move(c));
  }
  return out;
}

struct check_result {
  std::size_t commands = 0;
  std::size_t answered = 0;
  std::size_t unanswered = 0;
  std::size_t wrongly_answered = 0;
  std::size_t duplicate_events = 0;
  std::size_t rejected = 0;
  std::size_t refunded = 0;
  std::size_t negative_balances = 0;
  std::int64_t deposits = 0;
  std::int64_t withdrawals = 0;
  std::int64_t total_balance = 0;
  std::size_t accounts = 0;
  std::vector<std::string> problems;

  bool conserved() const { return total_balance == deposits - withdrawals; }
  bool ok() const {
    return unanswered == 0 && wrongly_answered == 0 && negative_balances == 0 && conserved();
  }
  std::string summary() const {
    return fmt::format(
        "{} commands: {} answered ({} rejected, {} transfers refunded), {} unanswered, {} wrongly "
        "answered, {} "
        "duplicate events; {} accounts hold {} = deposits {} - withdrawals {} ({}); {} negative "
        "balances",
        commands, answered, rejected, refunded, unanswered, wrongly_answered, duplicate_events,
        accounts, total_balance, deposits, withdrawals,
        conserved() ? "money conserved" : "MONEY NOT CONSERVED", negative_balances);
  }
};

struct outputs {
  std::vector<rill::kafka_record<std::string, event>> events;
  std::vector<rill::kafka_record<std::string, std::optional<std::int64_t>>> balances;
};

// The events a command should be answered with; any of the alternatives.
inline bool answered_right(const command& c, const std::multiset<std::string>& got) {
  auto has = [&](const char* t) { return got.contains(t); };
  std::set<std::string> kinds(got.begin(), got.end());
  if (kinds == std::set<std::string>{"rejected"}) return true;
  if (c.type == "open") return kinds == std::set<std::string>{"opened"};
  if (c.type == "deposit") return kinds == std::set<std::string>{"deposited"};
  if (c.type == "withdraw") return kinds == std::set<std::string>{"withdrawn"};
  if (c.type == "transfer") {
    return has("transfer_debited") &&
           (kinds == std::set<std::string>{"transfer_debited", "transfer_credited"} ||
            kinds == std::set<std::string>{"transfer_debited", "transfer_refunded"});
  }
  return false;
}

inline bool complete(const command& c, const std::multiset<std::string>& got) {
  if (got.empty()) return false;
  if (c.type == "transfer" && got.contains("transfer_debited")) {
    return got.contains("transfer_credited") || got.contains("transfer_refunded");
  }
  return true;
}

inline check_result check(const std::vector<command>& commands, const outputs& o) {
  check_result r;
  r.commands = commands.size();
  std::map<std::string, std::multiset<std::string>> answers;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& rec : o.events) {
    const event& e = rec.value;
    if (!seen.insert({e.command_id, e.type}).second) {
      ++r.duplicate_events;
      continue;  // at-least-once may repeat an event; count it once
    }
    answers[e.command_id].insert(e.type);
    if (e.type == "deposited") r.deposits += e.amount;
    if (e.type == "withdrawn") r.withdrawals += e.amount;
    if (e.type == "rejected") ++r.rejected;
    if (e.type == "transfer_refunded") ++r.refunded;
  }
  for (const auto& c : commands) {
    auto it = answers.find(c.id);
    if (it == answers.end() || !complete(c, it->second)) {
      ++r.unanswered;
      if (r.problems.size() < 10)
        r.problems.push_back(fmt::format("command {} ({}) not fully answered", c.id, c.type));
      continue;
    }
    ++r.answered;
    if (!answered_right(c, it->second)) {
      ++r.wrongly_answered;
      if (r.problems.size() < 10)
        r.problems.push_back(fmt::format("command {} ({}) answered wrongly", c.id, c.type));
    }
  }
  std::map<std::string, std::int64_t> latest;
  for (const auto& rec : o.balances) {
    if (!rec.value) continue;
    if (*rec.value < 0) ++r.negative_balances;
    latest[rec.key] = *rec.value;
  }
  r.accounts = latest.size();
  for (const auto& [account, balance] : latest) r.total_balance += balance;
  return r;
}

// Reads events and balances until every command is answered and the balances add up, or
// the timeout passes.
inline check_result read_and_check(const std::string& bootstrap,
                                   const std::map<std::string, std::string>& props,
                                   const std::vector<command>& commands,
                                   std::chrono::milliseconds timeout, const topics& t = {},
                                   outputs* read = nullptr) {
  rill::topic_reader<std::string, event> events(bootstrap, t.events(), props);
  rill::topic_reader<std::string, std::optional<std::int64_t>> balances(bootstrap, t.balances(),
                                                                        props);
  outputs o;
  check_result r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (auto& e : events.read(100000, std::chrono::milliseconds(100)))
      o.events.push_back(std::move(e));
    for (auto& b : balances.read(100000, std::chrono::milliseconds(100)))
      o.balances.push_back(std::move(b));
    r = check(commands, o);
  } while (!r.ok() && std::chrono::steady_clock::now() < deadline);
  if (read != nullptr) *read = std::move(o);
  return r;
}

// The read side: the balance view, richest accounts first.
inline std::string balance_view(const outputs& o, std::size_t top = 5) {
  std::map<std::string, std::int64_t> latest;
  for (const auto& rec : o.balances) {
    if (rec.value) latest[rec.key] = *rec.value;
  }
  std::vector<std::pair<std::int64_t, std::string>> ranked;
  for (const auto& [account, balance] : latest) ranked.emplace_back(balance, account);
  std::sort(ranked.rbegin(), ranked.rend());
  std::string out = fmt::format("balance view: {} accounts\n", latest.size());
  for (std::size_t i = 0; i < std::min(top, ranked.size()); ++i) {
    out += fmt::format("  {:>10}  {:>12.2f}\n", ranked[i].second,
                       static_cast<double>(ranked[i].first) / 100.0);
  }
  return out;
}

}  // namespace bank
