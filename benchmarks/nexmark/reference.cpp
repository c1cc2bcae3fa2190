// The queries computed by plain C++ over the generated events (made again here, one at a
// time), in the order they were generated, with the semantics queries.cpp gives its Rill
// topologies: what every run's output is checked against. No Rill code is used here but the
// result structs and, for q4, the key serde and Kafka's default partitioner (which partition's
// stream time closes an auction).
#include <algorithm>
#include <map>
#include <unordered_map>

#include "generator.hpp"
#include "lines.hpp"
#include "queries.hpp"
#include "src/runtime/partitioner.hpp"

namespace nexmark {

namespace {

std::vector<std::string> q0_q1(const generator_config& c, bool euros) {
  std::vector<std::string> out;
  generate(c, [&](const event& e) {
    if (e.kind != bid_kind) return;
    bid b = *e.new_bid;
    if (euros) b.price = b.price * 89 / 100;
    out.push_back(lines::of(b));
  });
  return out;
}

std::vector<std::string> q2(const generator_config& c) {
  std::vector<std::string> out;
  generate(c, [&](const event& e) {
    if (e.kind == bid_kind && e.new_bid->auction % auction_skip == 0)
      out.push_back(lines::of(q2_result{e.new_bid->auction, e.new_bid->price}));
  });
  return out;
}

// Every auction of category 10 whose seller is a person of OR, ID or CA, whenever either came.
std::vector<std::string> q3(const generator_config& c) {
  std::unordered_map<std::int64_t, person> sellers;
  std::vector<auction> items;
  generate(c, [&](const event& e) {
    const auto& p = e.new_person;
    if (p && (p->state == "OR" || p->state == "ID" || p->state == "CA")) sellers[p->id] = *p;
    if (e.new_auction && e.new_auction->category == 10) items.push_back(*e.new_auction);
  });
  std::vector<std::string> out;
  for (const auto& a : items) {
    auto it = sellers.find(a.seller);
    if (it == sellers.end()) continue;
    const person& p = it->second;
    out.push_back(lines::of(a.id, q3_result{p.name, p.city, p.state, a.id}));
  }
  return out;
}

// Beam's winning bids, per partition of the events topic (where Rill's task keeps time): in the
// order of generation, an auction or bid first closes the partition's auctions that expire at
// or before its time (a winner, if any, counts for its category), then an auction opens and a
// bid in [start, expiry) that reaches the reserve raises its auction's best. Auctions open at the
// end do not count.
std::vector<std::string> q4(const generator_config& c, int partitions) {
  struct open_auction {
    std::int64_t start, expires, reserve, category, best;
  };
  struct partition {
    std::unordered_map<std::int64_t, open_auction> open;
    std::multimap<std::int64_t, std::int64_t> closing;  // expiry -> auction
  };
  std::vector<partition> parts(static_cast<std::size_t>(partitions));
  std::map<std::int64_t, q4_result> per_category;
  const auto key_serde = rill::default_serde<std::int64_t>();
  rill::bytes key;
  generate(c, [&](const event& e) {
    if (e.kind == person_kind) return;
    key_serde.encode(event_key(e), key, {"nexmark-events", true, nullptr});
    partition& part = parts[static_cast<std::size_t>(
        rill::runtime::default_partition(rill::bytes_view(key), partitions))];
    const std::int64_t now = event_time(e);
    while (!part.closing.empty() && part.closing.begin()->first <= now) {
      auto it = part.open.find(part.closing.begin()->second);
      part.closing.erase(part.closing.begin());
      if (it == part.open.end()) continue;
      if (it->second.best >= 0) {
        q4_result& r = per_category[it->second.category];
        r.sum += it->second.best;
        ++r.count;
      }
      part.open.erase(it);
    }
    if (const auto& a = e.new_auction) {
      part.open[a->id] = {a->date_time, a->expires, a->reserve, a->category, -1};
      part.closing.emplace(a->expires, a->id);
      return;
    }
    const bid& b = *e.new_bid;
    auto it = part.open.find(b.auction);
    if (it == part.open.end()) return;
    open_auction& o = it->second;
    if (b.date_time >= o.start && b.date_time < o.expires && b.price >= o.reserve)
      o.best = std::max(o.best, b.price);
  });
  std::vector<std::string> out;
  for (const auto& [category, r] : per_category) out.push_back(lines::of(category, r));
  return out;
}

// Bids per auction in every hopping window [k·5 s, k·5 s + 10 s) that holds them; per window
// the most bid-on auction (the lowest id among ties).
std::vector<std::string> q5(const generator_config& c) {
  std::map<std::int64_t, std::unordered_map<std::int64_t, std::int64_t>> counts;
  generate(c, [&](const event& e) {
    if (!e.new_bid) return;
    const std::int64_t ts = e.new_bid->date_time;
    for (std::int64_t start = ts / period_ms * period_ms; start > ts - window_ms && start >= 0;
         start -= period_ms)
      ++counts[start][e.new_bid->auction];
  });
  std::vector<std::string> out;
  for (const auto& [start, per_auction] : counts) {
    q5_result best{0, -1};
    for (const auto& [auction, n] : per_auction)
      if (n > best.count || (n == best.count && auction < best.auction)) best = {auction, n};
    out.push_back(lines::of(start, best));
  }
  return out;
}

bool better(const bid& a, const bid& b) {  // a before b in q7's order
  if (a.price != b.price) return a.price > b.price;
  if (a.date_time != b.date_time) return a.date_time < b.date_time;
  if (a.auction != b.auction) return a.auction < b.auction;
  return a.bidder < b.bidder;
}

std::vector<std::string> q7(const generator_config& c) {
  std::map<std::int64_t, bid> best;
  generate(c, [&](const event& e) {
    if (!e.new_bid) return;
    const std::int64_t start = e.new_bid->date_time / window_ms * window_ms;
    auto [it, fresh] = best.try_emplace(start, *e.new_bid);
    if (!fresh && better(*e.new_bid, it->second)) it->second = *e.new_bid;
  });
  std::vector<std::string> out;
  for (const auto& [start, b] : best) out.push_back(lines::of(start, b));
  return out;
}

// Every (person, auction) with auction.seller == person.id in the same tumbling window.
std::vector<std::string> q8(const generator_config& c) {
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> people;  // (id, window): name
  std::vector<auction> openings;
  generate(c, [&](const event& e) {
    if (const auto& p = e.new_person) people[{p->id, p->date_time / window_ms}] = p->name;
    if (e.new_auction) openings.push_back(*e.new_auction);
  });
  std::vector<std::string> out;
  for (const auto& a : openings) {
    auto it = people.find({a.seller, a.date_time / window_ms});
    if (it == people.end()) continue;
    const auto& [id, window] = it->first;
    out.push_back(lines::of(q8_result{id, it->second, a.reserve, a.id, window * window_ms}));
  }
  return out;
}

}  // namespace

std::vector<std::string> expected_lines(const std::string& id, const generator_config& c,
                                        int partitions) {
  std::vector<std::string> out;
  if (id == "q0" || id == "q1")
    out = q0_q1(c, id == "q1");
  else if (id == "q2")
    out = q2(c);
  else if (id == "q3")
    out = q3(c);
  else if (id == "q4")
    out = q4(c, partitions);
  else if (id == "q5")
    out = q5(c);
  else if (id == "q7")
    out = q7(c);
  else if (id == "q8")
    out = q8(c);
  else
    query(id);  // throws
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nexmark
