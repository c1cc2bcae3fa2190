// The orders service's scenario: a generator of commands (with the event each should get),
// the read model recomputed from the event log, and a checker that compares it with what
// every instance's HTTP endpoint answers.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http_get.hpp"
#include "orders.hpp"

namespace orders {

// Commands' timestamps: from 2026-09-21 00:00 UTC, nine seconds apart, so a few thousand
// commands span several one-hour revenue windows.
inline constexpr std::int64_t first_ms = 1'790'035'200'000;
inline constexpr std::int64_t step_ms = 9'000;

struct plan {
  std::vector<std::pair<std::string, customer>> customers;
  std::vector<command> commands;      // record timestamp: first_ms + i * step_ms
  std::vector<std::string> expected;  // the event type each command should get
};

inline std::int64_t price_of(std::size_t product) {
  return 500 + 250 * static_cast<std::int64_t>(product);
}

// Deterministic for (count, customers, seed): orders placed and moved through their lives at
// random, with some commands that must be rejected (paying the wrong total, shipping before
// payment, unknown orders, placing an order twice).
inline plan generate(std::size_t count, std::size_t customers = 40, std::uint32_t seed = 11) {
  static const char* cities[] = {"Lyon", "Porto", "Gent", "Turku", "Split", "Graz"};
  plan p;
  for (std::size_t c = 0; c < customers; ++c)
    p.customers.push_back({fmt::format("cust-{:03}", c),
                           {fmt::format("Customer {}", c), cities[c % std::size(cities)]}});
  std::uint64_t state = seed;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  std::map<std::string, order_state> orders;
  std::vector<std::string> open;  // placed or paid
  auto add = [&](command c, const char* expect) {
    c.id = fmt::format("cmd-{}", p.commands.size());
    p.commands.push_back(std::move(c));
    p.expected.emplace_back(expect);
  };
  while (p.commands.size() < count) {
    const std::uint32_t dice = next() % 100;
    if (dice < 3 && !orders.empty()) {  // unknown order, or placed twice
      if (dice < 2)
        add({"", "ship", fmt::format("ghost-{}", next() % 50)}, "rejected");
      else
        add({"", "place", orders.begin()->first, "cust-000", "prod-0", 1, price_of(0)}, "rejected");
      continue;
    }
    if (dice < 35 || open.empty()) {
      const std::size_t product = next() % 8;
      const std::int64_t quantity = 1 + next() % 4;
      order_state o{
          fmt::format("ord-{:05}", orders.size()), "placed", p.customers[next() % customers].first,
          fmt::format("prod-{}", product),         quantity, quantity * price_of(product)};
      add({"", "place", o.order, o.customer, o.product, o.quantity, o.amount}, "placed");
      open.push_back(o.order);
      orders[o.order] = std::move(o);
      continue;
    }
    const std::size_t at = next() % open.size();
    order_state& o = orders[open[at]];
    const std::uint32_t move = next() % 100;
    const char* outcome = "rejected";
    if (o.status == "placed") {
      if (move < 75) {
        add({"", "pay", o.order, "", "", 0, o.amount}, outcome = "paid");
      } else if (move < 80) {
        add({"", "pay", o.order, "", "", 0, o.amount + 1}, "rejected");  // the wrong total
      } else if (move < 92) {
        add({"", "cancel", o.order}, outcome = "cancelled");
      } else {
        add({"", "ship", o.order}, "rejected");  // not paid yet
      }
    } else {
      add({"", move < 85 ? "ship" : "cancel", o.order},
          outcome = move < 85 ? "shipped" : "cancelled");
    }
    if (std::string(outcome) != "rejected") o.status = outcome;
    if (o.status == "shipped" || o.status == "cancelled") open.erase(open.begin() + at);
  }
  return p;
}

// The read model, as the service should answer it.
struct read_model {
  std::map<std::string, order_state> status;
  std::map<std::string, customer_stats> customers;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> revenue;  // (product, hour start)
  std::map<std::string, enriched_order> enriched;
};

// Recomputes the read model from the event log (each command's event counted once: an
// at-least-once run may repeat some) and the customers.
inline read_model recompute(const std::vector<rill::kafka_record<std::string, event>>& events,
                            const std::vector<std::pair<std::string, customer>>& customers) {
  read_model m;
  std::set<std::string> seen;
  const std::int64_t hour = std::chrono::milliseconds(revenue_window).count();
  for (const auto& r : events) {
    const event& e = r.value;
    if (e.type == "rejected" || !seen.insert(e.command_id).second) continue;
    m.status[e.order] = apply(m.status[e.order], e);
    if (const std::int64_t change = revenue_change(e); change != 0)
      m.revenue[{e.product, r.timestamp - r.timestamp % hour}] += change;
  }
  const std::map<std::string, customer> by_id(customers.begin(), customers.end());
  for (const auto& [id, s] : m.status) {
    customer_stats& c = m.customers[s.customer];
    c.orders += 1;
    if (counts_as_revenue(s.status)) c.lifetime_value += s.amount;
    if (auto it = by_id.find(s.customer); it != by_id.end())
      m.enriched[id] = {id, s.status, s.customer, it->second.name, it->second.city, s.amount};
  }
  return m;
}

// What the page shows, from a read model: orders by status, the top customers by lifetime
// value (ties by id), revenue per hour over every product.
struct page_figures {
  std::map<std::string, std::int64_t> by_status;
  std::vector<std::pair<std::string, std::int64_t>> top_customers;
  std::map<std::int64_t, std::int64_t> revenue_by_hour;
};

inline page_figures figures(const read_model& m, std::size_t top = 5) {
  page_figures f;
  for (const auto& [id, s] : m.status) ++f.by_status[s.status];
  for (const auto& [id, c] : m.customers) f.top_customers.emplace_back(id, c.lifetime_value);
  std::sort(f.top_customers.begin(), f.top_customers.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (f.top_customers.size() > top) f.top_customers.resize(top);
  for (const auto& [k, v] : m.revenue) f.revenue_by_hour[k.second] += v;
  return f;
}

inline std::string money(std::int64_t cents) {
  return fmt::format("{:.2f}", static_cast<double>(cents) / 100.0);
}

// One instance's answers for the whole read model, as a read model, through the gathered
// range routes (which also ask every other instance); throws naming what failed.
inline read_model ask(const std::string& server, std::chrono::milliseconds timeout) {
  auto entries = [&](const char* store) {
    const auto answer = http_get(server, std::string("/stores/") + store, timeout);
    if (answer.status != 200)
      throw std::runtime_error(
          fmt::format("{} /stores/{}: {} {}", server, store, answer.status, answer.body));
    auto json = nlohmann::json::parse(answer.body);
    if (!json.value("complete", false))
      throw std::runtime_error(
          fmt::format("{} /stores/{}: incomplete: {}", server, store, answer.body));
    return json.at("entries");
  };
  read_model m;
  for (const auto& e : entries(status_store)) {
    const auto& v = e.at("value");
    m.status[e.at("key")] = {v.at("order"),   v.at("status"),   v.at("customer"),
                             v.at("product"), v.at("quantity"), v.at("amount")};
  }
  for (const auto& e : entries(customers_store))
    m.customers[e.at("key")] = {e.at("value").at("orders"), e.at("value").at("lifetime_value")};
  for (const auto& e : entries(revenue_store))
    m.revenue[{e.at("key"), e.at("start")}] = e.at("value");
  for (const auto& e : entries(enriched_store)) {
    const auto& v = e.at("value");
    m.enriched[e.at("key")] = {v.at("order"), v.at("status"), v.at("customer"),
                               v.at("name"),  v.at("city"),   v.at("amount")};
  }
  return m;
}

inline bool operator==(const order_state& a, const order_state& b) {
  return std::tie(a.order, a.status, a.customer, a.product, a.amount) ==
         std::tie(b.order, b.status, b.customer, b.product, b.amount);
}
inline bool operator==(const customer_stats& a, const customer_stats& b) {
  return a.orders == b.orders && a.lifetime_value == b.lifetime_value;
}
inline bool operator==(const enriched_order& a, const enriched_order& b) {
  return std::tie(a.order, a.status, a.customer, a.name, a.city, a.amount) ==
         std::tie(b.order, b.status, b.customer, b.name, b.city, b.amount);
}

inline std::string describe(const std::string& k) {
  return k;
}
inline std::string describe(const std::pair<std::string, std::int64_t>& k) {
  return fmt::format("{}@{}", k.first, k.second);
}
inline std::string describe(std::int64_t v) {
  return std::to_string(v);
}
inline std::string describe(const order_state& s) {
  return s.status;
}
inline std::string describe(const customer_stats& c) {
  return fmt::format("{} orders, {}", c.orders, c.lifetime_value);
}
inline std::string describe(const enriched_order& e) {
  return fmt::format("{} {} {}", e.status, e.name, e.city);
}

// How many entries of `got` differ from `want`'s (missing, extra or other values), as a
// line that names the first.
template <class K, class V>
void differences(const std::string& what, const std::map<K, V>& want, const std::map<K, V>& got,
                 std::vector<std::string>& out) {
  std::size_t n = 0;
  std::string first;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it != got.end() && it->second == v) continue;
    if (n++ == 0)
      first = fmt::format("{}: want {}, got {}", describe(k), describe(v),
                          it == got.end() ? "nothing" : describe(it->second));
  }
  for (const auto& [k, v] : got) {
    if (want.contains(k)) continue;
    if (n++ == 0) first = fmt::format("{}: want nothing, got {}", describe(k), describe(v));
  }
  if (n > 0)
    out.push_back(fmt::format("{}: {} of {} entries differ ({} answered), first {}", what, n,
                              want.size(), got.size(), first));
}

inline std::vector<std::string> compare(const read_model& want, const read_model& got) {
  std::vector<std::string> out;
  differences(status_store, want.status, got.status, out);
  differences(customers_store, want.customers, got.customers, out);
  differences(revenue_store, want.revenue, got.revenue, out);
  differences(enriched_store, want.enriched, got.enriched, out);
  return out;
}

// One order asked of one instance by key: its state and the instance that served it (the
// owner, when the key lives elsewhere and the request was forwarded).
struct key_answer {
  order_state state;
  std::string served_by;
};

inline key_answer ask_order(const std::string& server, const std::string& order,
                            std::chrono::milliseconds timeout) {
  const auto answer =
      http_get(server, std::string("/stores/") + status_store + "/keys/" + order, timeout);
  if (answer.status != 200)
    throw std::runtime_error(
        fmt::format("{} order {}: {} {}", server, order, answer.status, answer.body));
  const auto json = nlohmann::json::parse(answer.body);
  const auto& v = json.at("value");
  return {{v.at("order"), v.at("status"), v.at("customer"), v.at("product"), v.at("quantity"),
           v.at("amount")},
          json.at("served_by")};
}

// The write side's answers: each command's event (the first, if repeated) against the one
// expected; problems as lines.
inline std::vector<std::string> check_answers(
    const plan& p, const std::vector<rill::kafka_record<std::string, event>>& events,
    std::size_t* answered = nullptr) {
  std::map<std::string, std::string> got;
  for (const auto& r : events) got.emplace(r.value.command_id, r.value.type);
  std::vector<std::string> out;
  std::size_t missing = 0, wrong = 0;
  for (std::size_t i = 0; i < p.commands.size(); ++i) {
    auto it = got.find(p.commands[i].id);
    if (it == got.end()) {
      ++missing;
    } else if (it->second != p.expected[i]) {
      if (++wrong <= 5)
        out.push_back(fmt::format("{} ({} {}) answered {}, expected {}", p.commands[i].id,
                                  p.commands[i].type, p.commands[i].order, it->second,
                                  p.expected[i]));
    }
  }
  if (missing > 0) out.push_back(fmt::format("{} commands not answered", missing));
  if (wrong > 5) out.push_back(fmt::format("... {} commands answered wrongly in all", wrong));
  if (answered != nullptr) *answered = p.commands.size() - missing;
  return out;
}

}  // namespace orders
