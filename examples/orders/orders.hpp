// The orders service: CQRS on Rill. Commands (place, pay, ship, cancel) arrive on
// `orders-commands`, keyed by order. The order processor checks each against the order's
// state (store "orders") and answers with one event on `orders-events`:
//
//   place   -> placed     (a new order: customer, product, quantity, total)   | rejected
//   pay     -> paid       (a placed order, paid its total)                    | rejected
//   ship    -> shipped    (a paid order)                                      | rejected
//   cancel  -> cancelled  (a placed or paid order; `amount` is what is refunded) | rejected
//
// The read side, materialized from the events and queryable over HTTP (docs/queries.md):
//
//   order-status       order    -> its latest state                 (an aggregate of events)
//   customer-orders    customer -> orders placed, lifetime value    (re-keyed from order-status,
//                                  the totals of paid and shipped orders; adder and subtractor)
//   revenue-per-hour   product @ hour -> payments less refunds      (tumbling one-hour windows)
//   orders-enriched    order    -> its state with the customer's name and city
//                                  (order-status joined to `orders-customers` by its foreign
//                                  key, written to `orders-enriched` and read back as a table)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <rill/rill.hpp>

namespace orders {

struct command {
  std::string id;
  std::string type;  // place | pay | ship | cancel
  std::string order;
  std::string customer;       // place
  std::string product;        // place
  std::int64_t quantity = 0;  // place
  std::int64_t amount = 0;    // place: the order's total; pay: the payment (cents)
};

struct event {
  std::string command_id;
  std::string type;  // placed | paid | shipped | cancelled | rejected
  std::string order;
  std::string customer;
  std::string product;
  std::int64_t amount = 0;  // placed, paid: the total; cancelled: what is refunded (0 if unpaid)
  std::string reason;       // rejected
};

// An order as the write side keeps it, and as `order-status` shows it.
struct order_state {
  std::string order;
  std::string status;  // placed | paid | shipped | cancelled
  std::string customer;
  std::string product;
  std::int64_t quantity = 0;
  std::int64_t amount = 0;
};

struct customer {
  std::string name;
  std::string city;
};

struct customer_stats {
  std::int64_t orders = 0;
  std::int64_t lifetime_value = 0;  // totals of the customer's paid and shipped orders
};

struct enriched_order {
  std::string order;
  std::string status;
  std::string customer;
  std::string name;
  std::string city;
  std::int64_t amount = 0;
};

}  // namespace orders

BOOST_HANA_ADAPT_STRUCT(orders::command, id, type, order, customer, product, quantity, amount);
BOOST_HANA_ADAPT_STRUCT(orders::event, command_id, type, order, customer, product, amount, reason);
BOOST_HANA_ADAPT_STRUCT(orders::order_state, order, status, customer, product, quantity, amount);
BOOST_HANA_ADAPT_STRUCT(orders::customer, name, city);
BOOST_HANA_ADAPT_STRUCT(orders::customer_stats, orders, lifetime_value);
BOOST_HANA_ADAPT_STRUCT(orders::enriched_order, order, status, customer, name, city, amount);

namespace orders {

struct topics {
  std::string prefix;
  std::string commands() const { return prefix + "orders-commands"; }
  std::string events() const { return prefix + "orders-events"; }
  std::string customers() const { return prefix + "orders-customers"; }
  std::string enriched() const { return prefix + "orders-enriched"; }
};

// The store names the HTTP endpoint and the page read.
inline constexpr const char* status_store = "order-status";
inline constexpr const char* customers_store = "customer-orders";
inline constexpr const char* revenue_store = "revenue-per-hour";
inline constexpr const char* enriched_store = "orders-enriched";
inline constexpr std::chrono::hours revenue_window{1};

// Whether an order in this state counts towards its customer's lifetime value.
inline bool counts_as_revenue(const std::string& status) {
  return status == "paid" || status == "shipped";
}

// How an event moves an order: the state after it.
inline order_state apply(order_state s, const event& e) {
  if (e.type == "placed") return {e.order, "placed", e.customer, e.product, s.quantity, e.amount};
  if (e.type == "paid" || e.type == "shipped" || e.type == "cancelled") s.status = e.type;
  return s;
}

// The change of a product's revenue an event makes: payments in, refunds out.
inline std::int64_t revenue_change(const event& e) {
  if (e.type == "paid") return e.amount;
  if (e.type == "cancelled") return -e.amount;
  return 0;
}

// The write side: a command checked against its order's state becomes one event.
class order_processor final : public rill::processor<std::string, command, std::string, event> {
 public:
  void init(context_type& ctx) override {
    _ctx = &ctx;
    _orders = &ctx.get_state_store<rill::key_value_store<std::string, order_state>>("orders");
  }

  void process(rill::record<std::string, command> r) override {
    const command& c = r.value;
    std::optional<order_state> o = _orders->get(c.order);
    auto emit = [&](event e) { _ctx->forward({c.order, std::move(e), r.timestamp, {}}); };
    auto reject = [&](std::string why) {
      emit({c.id, "rejected", c.order, o ? o->customer : c.customer, o ? o->product : c.product,
            c.amount, std::move(why)});
    };
    if (c.type == "place") {
      if (o) return reject("order " + c.order + " already exists");
      if (c.quantity <= 0 || c.amount <= 0) return reject("quantity and total must be positive");
      _orders->put(c.order, {c.order, "placed", c.customer, c.product, c.quantity, c.amount});
      return emit({c.id, "placed", c.order, c.customer, c.product, c.amount, ""});
    }
    if (!o) return reject("no order " + c.order);
    auto move_to = [&](const char* status, std::int64_t amount) {
      o->status = status;
      _orders->put(c.order, *o);
      emit({c.id, status, c.order, o->customer, o->product, amount, ""});
    };
    if (c.type == "pay") {
      if (o->status != "placed") return reject("cannot pay a " + o->status + " order");
      if (c.amount != o->amount)
        return reject("payment of " + std::to_string(c.amount) + " does not match the total " +
                      std::to_string(o->amount));
      return move_to("paid", o->amount);
    }
    if (c.type == "ship") {
      if (o->status != "paid") return reject("cannot ship a " + o->status + " order");
      return move_to("shipped", o->amount);
    }
    if (c.type == "cancel") {
      if (o->status != "placed" && o->status != "paid")
        return reject("cannot cancel a " + o->status + " order");
      return move_to("cancelled", o->status == "paid" ? o->amount : 0);
    }
    reject("unknown command '" + c.type + "'");
  }

 private:
  context_type* _ctx = nullptr;
  rill::key_value_store<std::string, order_state>* _orders = nullptr;
};

inline rill::topology topology(const topics& t = {}) {
  using namespace std::chrono_literals;
  rill::streams_builder b;
  b.add_state_store(rill::materialized<std::string, order_state>{.name = "orders"});
  b.stream<std::string, command>(t.commands(), {.name = "commands"})
      .process([] { return std::make_unique<order_processor>(); }, rill::named("order-processor"),
               {"orders"})
      .to(t.events(), {.name = "events-sink"});

  auto events =
      b.stream<std::string, event>(t.events(), {.name = "events-source"})
          .filter_not([](const std::string&, const event& e) { return e.type == "rejected"; },
                      rill::named("accepted"));
  auto status = events.group_by_key().aggregate(
      [] { return order_state{}; },
      [](const std::string&, const event& e, order_state s) { return apply(std::move(s), e); },
      rill::named(status_store));

  status
      .group_by([](const std::string&, const order_state& s) { return std::pair(s.customer, s); },
                rill::grouped<std::string, order_state>{.name = "by-customer"})
      .aggregate([] { return customer_stats{}; },
                 [](const std::string&, const order_state& s, customer_stats c) {
                   c.orders += 1;
                   if (counts_as_revenue(s.status)) c.lifetime_value += s.amount;
                   return c;
                 },
                 [](const std::string&, const order_state& s, customer_stats c) {
                   c.orders -= 1;
                   if (counts_as_revenue(s.status)) c.lifetime_value -= s.amount;
                   return c;
                 },
                 rill::named(customers_store));

  events
      .filter([](const std::string&, const event& e) { return revenue_change(e) != 0; },
              rill::named("payments-and-refunds"))
      .group_by([](const std::string&, const event& e) { return e.product; },
                rill::grouped<std::string, event>{.name = "by-product"})
      // A week of grace: replaying history (a new instance, a reset) interleaves the event
      // partitions' hours in the repartition topic, and a payment late by less than the grace
      // still counts in its own hour. Kept for a year, for the page and the checker.
      .windowed_by(rill::tumbling_window(revenue_window).grace(24h * 7))
      .aggregate([] { return std::int64_t{0}; },
                 [](const std::string&, const event& e, std::int64_t sum) {
                   return sum + revenue_change(e);
                 },
                 rill::materialized<std::string, std::int64_t>{.name = revenue_store,
                                                               .retention = 24h * 365});

  auto customers = b.table<std::string, customer>(t.customers());
  status
      .join(
          customers, [](const order_state& s) { return s.customer; },
          [](const order_state& s, const customer& c) {
            return enriched_order{s.order, s.status, s.customer, c.name, c.city, s.amount};
          },
          rill::named("with-customer"))
      .to_stream()
      .to(t.enriched(), {.name = "enriched-sink"});
  b.table<std::string, enriched_order>(
      t.enriched(), rill::materialized<std::string, enriched_order>{.name = enriched_store});
  return b.build();
}

}  // namespace orders
