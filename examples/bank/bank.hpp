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
#pragma once

#include <cstdint>
#include <string>

#include <rill/rill.hpp>

namespace bank {

struct command {
  std::string id;
  std::string
      type;  // open | deposit | withdraw | transfer | credit | refund (the last two internal)
  std::string account;
  std::string target;       // transfer: the other account
  std::int64_t amount = 0;  // cents
};

struct event {
  std::string command_id;
  std::string type;  // opened | deposited | withdrawn | transfer_debited | transfer_credited |
                     // transfer_refunded | rejected
  std::string account;
  std::string counterparty;
  std::int64_t amount = 0;
  std::string reason;  // rejected
};

struct account {
  bool open = false;
  std::int64_t balance = 0;
};

}  // namespace bank

BOOST_HANA_ADAPT_STRUCT(bank::command, id, type, account, target, amount);
BOOST_HANA_ADAPT_STRUCT(bank::event, command_id, type, account, counterparty, amount, reason);
BOOST_HANA_ADAPT_STRUCT(bank::account, open, balance);

namespace bank {

struct topics {
  std::string prefix;
  std::string commands() const { return prefix + "bank-commands"; }
  std::string events() const { return prefix + "bank-events"; }
  std::string balances() const { return prefix + "bank-balances"; }
};

// Applies a command to an account: the events it answers with, and the new state.
class account_processor final : public rill::processor<std::string, command, std::string, event> {
 public:
  void init(context_type& ctx) override {
    _ctx = &ctx;
    _accounts = &ctx.get_state_store<rill::key_value_store<std::string, account>>("accounts");
  }

  void process(rill::record<std::string, command> r) override {
    const command& c = r.value;
    account a = _accounts->get(c.account).value_or(account{});
    auto emit = [&](const std::string& key, event e) {
      _ctx->forward({key, std::move(e), r.timestamp, {}});
    };
    auto reject = [&](std::string why) {
      emit(c.account, {c.id, "rejected", c.account, c.target, c.amount, std::move(why)});
    };

    if (c.type == "open") {
      if (a.open) return reject("account already open");
      a.open = true;
      _accounts->put(c.account, a);
      return emit(c.account, {c.id, "opened", c.account, "", 0, ""});
    }
    if (c.type == "credit" ||
        c.type == "refund") {  // a transfer's second leg, from the feedback topic
      if (c.type == "credit" && !a.open) {
        // No account to credit: the money goes back to the source.
        return emit(c.target,
                    {c.id, "refund_requested", c.target, c.account, c.amount, "no such account"});
      }
      a.balance += c.amount;
      _accounts->put(c.account, a);
      return emit(c.account, {c.id, c.type == "credit" ? "transfer_credited" : "transfer_refunded",
                              c.account, c.target, c.amount, ""});
    }
    if (!a.open) return reject("no such account");
    if (c.amount <= 0) return reject("amount must be positive");
    if (c.type == "deposit") {
      a.balance += c.amount;
      _accounts->put(c.account, a);
      return emit(c.account, {c.id, "deposited", c.account, "", c.amount, ""});
    }
    if (c.type != "withdraw" && c.type != "transfer")
      return reject("unknown command '" + c.type + "'");
    if (c.type == "transfer" && c.target == c.account)
      return reject("cannot transfer to the same account");
    if (a.balance < c.amount) return reject("insufficient funds");
    a.balance -= c.amount;
    _accounts->put(c.account, a);
    if (c.type == "withdraw")
      return emit(c.account, {c.id, "withdrawn", c.account, "", c.amount, ""});
    emit(c.account, {c.id, "transfer_debited", c.account, c.target, c.amount, ""});
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
  b.add_state_store(rill::materialized<std::string, account>{.name = "accounts"});
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
                  {e.counterparty, {e.command_id, "credit", e.counterparty, e.account, e.amount}});
            if (e.type == "refund_requested")
              legs.push_back(
                  {e.account, {e.command_id, "refund", e.account, e.counterparty, e.amount}});
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
