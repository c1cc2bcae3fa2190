// The event-sourced bank. Commands (open, deposit, withdraw, transfer) arrive on
// `bank-commands`, keyed by account. The account processor validates each against the
// account's state (store "accounts") and answers with events on `bank-events`:
//
//   open      -> opened                         | rejected
//   deposit   -> deposited                      | rejected
//   withdraw  -> withdrawn                      | rejected
//   transfer  -> transfer_debited, then either transfer_credited (on the target) or, if the
//                target has no account, transfer_refunded (on the source) | rejected
//
// A transfer's credit leg is re-keyed to the target account and sent through the feedback
// topic `<app>-credits-feedback` to the task that owns the target; a refund comes back the
// same way. Balances are a table aggregated from the events (`bank-balances`): the read
// side of CQRS.
//
// Every answer carries its account's version, and an account remembers its recent answers:
// a command delivered again (at-least-once, after a crash) is answered as the first time
// and applied once (docs/exactly-once.md, "kill -9 on a broker").
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <rill/rill.hpp>

namespace bank {

struct command {
  std::string id;
  std::string
      type;  // open | deposit | withdraw | transfer | credit | refund (the last two internal)
  std::string account;
  std::string target;        // transfer: the other account
  std::int64_t amount = 0;   // cents
  std::int64_t version = 0;  // a credit or refund leg: the version of the answer it comes from
};

struct event {
  std::string command_id;
  std::string type;  // opened | deposited | withdrawn | transfer_debited | transfer_credited |
                     // transfer_refunded | rejected
  std::string account;
  std::string counterparty;
  std::int64_t amount = 0;
  std::string reason;  // rejected
  // The answering account's version: how many commands it had answered, this one included.
  // An account's events sorted by version are its history, even where a crash under
  // at-least-once sent one again later.
  std::int64_t version = 0;
};

// An answer an account gave, remembered so that a command delivered again (under
// at-least-once, the commands since the last offset commit come again after a crash) gets
// the same answer and is not applied twice. The answer is kept in the account's own value,
// so it reaches the changelog in the same write as the change it made.
struct answer {
  std::string command_id;
  std::string command_type;  // a transfer's id comes back as a credit or refund leg
  std::string event_type;
  std::string reason;
  std::int64_t version = 0;
};

// How many answers an account remembers: more than the commands one account can receive
// between two offset commits, so a redelivered command is always recognized.
inline constexpr std::size_t remembered_answers = 16;

struct account {
  bool open = false;
  std::int64_t balance = 0;
  std::int64_t version = 0;    // commands answered
  std::vector<answer> recent;  // the last remembered_answers, oldest first
  // Per counterparty, the newest version of its answers whose credit or refund leg this
  // account applied. A leg comes again when its source answers again after a crash, which
  // can be long after the leg was forgotten by `recent`; legs from one account arrive in
  // the order of its versions (one producer, one partition, idempotent).
  std::map<std::string, std::int64_t> legs;
};

}  // namespace bank

BOOST_HANA_ADAPT_STRUCT(bank::command, id, type, account, target, amount, version);
BOOST_HANA_ADAPT_STRUCT(bank::event, command_id, type, account, counterparty, amount, reason,
                        version);
BOOST_HANA_ADAPT_STRUCT(bank::answer, command_id, command_type, event_type, reason, version);
BOOST_HANA_ADAPT_STRUCT(bank::account, open, balance, version, recent, legs);

namespace bank {

struct topics {
  std::string prefix;
  std::string commands() const { return prefix + "bank-commands"; }
  std::string events() const { return prefix + "bank-events"; }
  std::string balances() const { return prefix + "bank-balances"; }
};

struct verdict {
  std::string event_type;
  std::string reason;  // why a command was rejected
};

// The bank's rules: what an account answers to a command, changing the account.
inline verdict decide(const command& c, account& a) {
  auto reject = [](std::string why) { return verdict{"rejected", std::move(why)}; };
  if (c.type == "open") {
    if (a.open) return reject("account already open");
    a.open = true;
    return {"opened", ""};
  }
  if (c.type == "credit" || c.type == "refund") {  // a transfer's second leg (feedback topic)
    // No account to credit: the money goes back to the source.
    if (c.type == "credit" && !a.open) return {"refund_requested", "no such account"};
    a.balance += c.amount;
    return {c.type == "credit" ? "transfer_credited" : "transfer_refunded", ""};
  }
  if (!a.open) return reject("no such account");
  if (c.amount <= 0) return reject("amount must be positive");
  if (c.type == "deposit") {
    a.balance += c.amount;
    return {"deposited", ""};
  }
  if (c.type != "withdraw" && c.type != "transfer")
    return reject("unknown command '" + c.type + "'");
  if (c.type == "transfer" && c.target == c.account)
    return reject("cannot transfer to the same account");
  if (a.balance < c.amount) return reject("insufficient funds");
  a.balance -= c.amount;
  return {c.type == "withdraw" ? "withdrawn" : "transfer_debited", ""};
}

// The event a verdict on `c` goes out as, and its key: the account whose balance it
// changes (a refund request goes to the transfer's source).
inline std::pair<std::string, event> answer_event(const command& c, const verdict& v,
                                                  std::int64_t version) {
  if (v.event_type == "refund_requested")
    return {c.target, {c.id, v.event_type, c.target, c.account, c.amount, v.reason, version}};
  if (v.event_type == "opened")
    return {c.account, {c.id, v.event_type, c.account, "", 0, "", version}};
  if (v.event_type == "deposited" || v.event_type == "withdrawn")
    return {c.account, {c.id, v.event_type, c.account, "", c.amount, "", version}};
  return {c.account, {c.id, v.event_type, c.account, c.target, c.amount, v.reason, version}};
}

// How an account answers a command: a retried command gets its remembered answer again, a
// transfer leg applied long ago gets nothing (its answer left then, or it would be recent),
// and anything else is decided, changing the account (which the caller then stores).
struct outcome {
  enum kind { repeated, ignored, decided } what = decided;
  verdict v;
  std::int64_t version = 0;
};

inline outcome respond(const command& c, account& a) {
  auto seen = std::find_if(a.recent.begin(), a.recent.end(), [&](const answer& x) {
    return x.command_id == c.id && x.command_type == c.type;
  });
  if (seen != a.recent.end())
    return {outcome::repeated, {seen->event_type, seen->reason}, seen->version};
  const bool leg = c.type == "credit" || c.type == "refund";
  if (auto applied = a.legs.find(c.target);
      leg && applied != a.legs.end() && c.version <= applied->second)
    return {outcome::ignored, {}, 0};
  outcome o{outcome::decided, decide(c, a), ++a.version};
  a.recent.push_back({c.id, c.type, o.v.event_type, o.v.reason, o.version});
  if (a.recent.size() > remembered_answers) a.recent.erase(a.recent.begin());
  if (leg) a.legs[c.target] = c.version;
  return o;
}

// Applies a command to its account (store "accounts") and answers with an event. A command
// the account has answered before is answered the same way again, and changes nothing.
class account_processor final : public rill::processor<std::string, command, std::string, event> {
 public:
  void init(context_type& ctx) override {
    _ctx = &ctx;
    _accounts = &ctx.get_state_store<rill::key_value_store<std::string, account>>("accounts");
  }

  void process(rill::record<std::string, command> r) override {
    const command& c = r.value;
    account a = _accounts->get(c.account).value_or(account{});
    const outcome o = respond(c, a);
    if (o.what == outcome::ignored) return;
    if (o.what == outcome::decided) _accounts->put(c.account, a);
    auto [key, e] = answer_event(c, o.v, o.version);
    _ctx->forward({std::move(key), std::move(e), r.timestamp, {}});
  }

 private:
  context_type* _ctx = nullptr;
  rill::key_value_store<std::string, account>* _accounts = nullptr;
};

// How an event changes its account's balance.
inline std::int64_t balance_change(const event& e) {
  if (e.type == "deposited" || e.type == "transfer_credited" || e.type == "transfer_refunded")
    return e.amount;
  if (e.type == "withdrawn" || e.type == "transfer_debited") return -e.amount;
  return 0;
}

inline rill::topology topology(const topics& t = {}) {
  rill::streams_builder b;
  // No record cache in front of the accounts: an account's write goes to its changelog
  // before its answer leaves, through the same producer, so under at-least-once an answer
  // that was sent has (but for a reordering across partitions, which Kafka allows and the
  // kill test counts) its account's write beside it, and the command, delivered again, is
  // recognized by its remembered answer.
  b.add_state_store(rill::materialized<std::string, account>{.name = "accounts", .caching = false});
  auto legs = b.feedback<std::string, command>("credits");
  auto events = b.stream<std::string, command>(t.commands(), {.name = "commands"})
                    .merge(legs.stream(), rill::named("commands-and-legs"))
                    .process([] { return std::make_unique<account_processor>(); },
                             rill::named("accounts-processor"), {"accounts"});
  // Second legs: a debit asks the target for the credit; a failed credit asks for a refund.
  events
      .flat_map(
          [](const std::string&, const event& e) {
            std::vector<std::pair<std::string, command>> legs;
            if (e.type == "transfer_debited")
              legs.push_back(
                  {e.counterparty,
                   {e.command_id, "credit", e.counterparty, e.account, e.amount, e.version}});
            if (e.type == "refund_requested")
              legs.push_back(
                  {e.account,
                   {e.command_id, "refund", e.account, e.counterparty, e.amount, e.version}});
            return legs;
          },
          rill::named("second-legs"))
      .to(legs);
  events
      .filter_not([](const std::string&, const event& e) { return e.type == "refund_requested"; },
                  rill::named("public-events"))
      .to(t.events(), {.name = "events-sink"});
  // The read side: balance per account, from the events.
  b.stream<std::string, event>(t.events(), {.name = "events-source"})
      .filter_not([](const std::string&, const event& e) { return e.type == "rejected"; },
                  rill::named("no-rejections"))
      .group_by_key()
      .aggregate([] { return std::int64_t{0}; },
                 [](const std::string&, const event& e, std::int64_t balance) {
                   return balance + balance_change(e);
                 },
                 rill::named("balances"))
      .to_stream()
      .to(t.balances(), {.name = "balances-sink"});
  return b.build();
}

}  // namespace bank
