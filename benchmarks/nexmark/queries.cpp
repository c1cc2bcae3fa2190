// The queries as Rill topologies (queries.hpp). Every query reads the one events topic and
// picks its kinds with a filter, as Flink's Nexmark reads one generated stream.
//
// Where the Rill form departs from the specification:
// - q3 (Beam: a stateful join that holds auctions until their seller arrives, for up to
//   10 minutes; Flink: a regular join) is a foreign-key join of two tables, so a seller
//   who registers after their auction still finds it, as in Flink's regular join.
// - q4's winning bids are a processor (the processor API, `process`): the DSL has no per-key
//   event-time timer with which to close an auction at its expiry. Stream time is the task's
//   (its partition of the events topic), so an auction closes when a later auction or bid of
//   its partition reaches its expiry; auctions still open when the input ends are not counted.
// - q5 and q7 count (q5) and keep the highest bid (q7) per key and window, then the best of
//   each window over all keys in a second, non-windowed aggregation keyed by the window's
//   start (a two-phase aggregation, as Flink's local/global one): the windows' partial
//   results come from many tasks, and a windowed aggregation there would drop those that
//   arrive after stream time closed the window. Ties: q5 keeps the lowest auction id among
//   the most bid-on, q7 the earliest, then lowest auction, then lowest bidder among the
//   highest prices (Beam and Flink emit every tied record).
// - q8 keys both sides by (person, window start), so the time-difference join window matches
//   records of the same tumbling window only, and gives the join a grace as long as the input
//   (query_options): records reach the join from many tasks, out of time order.
#include "queries.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

namespace nexmark {

namespace {

using std::chrono::milliseconds;
using key_t = std::int64_t;

auto persons_of(const event_stream& events) {
  return events.filter([](const key_t&, const event& e) { return e.kind == person_kind; })
      .map_values([](event e) { return std::move(*e.new_person); });
}
auto auctions_of(const event_stream& events) {
  return events.filter([](const key_t&, const event& e) { return e.kind == auction_kind; })
      .map_values([](event e) { return std::move(*e.new_auction); });
}
auto bids_of(const event_stream& events) {
  return events.filter([](const key_t&, const event& e) { return e.kind == bid_kind; })
      .map_values([](event e) { return std::move(*e.new_bid); });
}

// q7's order: the higher price, then the earlier, then the lower auction, then bidder.
const bid& better_bid(const bid& a, const bid& b) {
  if (a.price != b.price) return a.price > b.price ? a : b;
  if (a.date_time != b.date_time) return a.date_time < b.date_time ? a : b;
  if (a.auction != b.auction) return a.auction < b.auction ? a : b;
  return a.bidder <= b.bidder ? a : b;
}

// q8's join key: a person id and the index of the tumbling window (ts / 10 s < 2^32).
key_t q8_key(std::int64_t id, std::int64_t ts) {
  return (id << 32) | (ts / window_ms);
}

void q3(rill::streams_builder&, const event_stream& events, const std::string& out) {
  auto sellers = persons_of(events)
                     .filter([](const key_t&, const person& p) {
                       return p.state == "OR" || p.state == "ID" || p.state == "CA";
                     })
                     .repartition()  // a subtopology of its own, as the join's right side
                     .group_by_key()
                     .reduce([](person, const person& latest) { return latest; });
  auto items = auctions_of(events)
                   .filter([](const key_t&, const auction& a) { return a.category == 10; })
                   .group_by_key()
                   .reduce([](auction, const auction& latest) { return latest; });
  items
      .join(
          sellers, [](const auction& a) { return a.seller; },
          [](const auction& a, const person& p) {
            return q3_result{p.name, p.city, p.state, a.id};
          })
      .to_stream()
      .to(out);
}

// q4's winning bids, as Beam's WinningBids: per auction (the task holds an auction and its bids,
// in the order they were generated) the highest bid in [start, expiry) that reaches the
// reserve; when the task's stream time reaches the expiry, the auction closes and its winner,
// if any, goes out as (category, price). Open auctions are kept in a store; which expires next
// in an index rebuilt from the store when the task starts.
class winning_bids final : public rill::processor<key_t, event, key_t, std::int64_t> {
 public:
  static constexpr const char* store = "q4-open-auctions";

  void init(context_type& ctx) override {
    _ctx = &ctx;
    _open = &ctx.get_state_store<rill::key_value_store<key_t, q4_open>>(store);
    for (const auto& kv : _open->all()) _closing.emplace(kv.value.expires, kv.key);
  }
  void process(rill::record<key_t, event> r) override {
    close_until(r.timestamp);
    if (r.value.new_auction) {
      const auction& a = *r.value.new_auction;
      _open->put(a.id, q4_open{a.date_time, a.expires, a.reserve, a.category, -1});
      _closing.emplace(a.expires, a.id);
      return;
    }
    if (!r.value.new_bid) return;
    const bid& b = *r.value.new_bid;
    std::optional<q4_open> o = _open->get(b.auction);
    if (!o || b.date_time < o->start || b.date_time >= o->expires || b.price < o->reserve ||
        b.price <= o->best)
      return;
    o->best = b.price;
    _open->put(b.auction, *o);
  }

 private:
  void close_until(rill::timestamp_ms now) {
    while (!_closing.empty() && _closing.begin()->first <= now) {
      const auto [expires, id] = *_closing.begin();
      _closing.erase(_closing.begin());
      if (std::optional<q4_open> o = _open->get(id)) {
        if (o->best >= 0) _ctx->forward({o->category, o->best, expires, {}});
        _open->remove(id);
      }
    }
  }

  context_type* _ctx = nullptr;
  rill::key_value_store<key_t, q4_open>* _open = nullptr;
  std::multimap<std::int64_t, key_t> _closing;  // expiry -> auction
};

void q4(rill::streams_builder& b, const event_stream& events, const std::string& out) {
  b.add_state_store(rill::materialized<key_t, q4_open>{.name = winning_bids::store});
  events.filter([](const key_t&, const event& e) { return e.kind != person_kind; })
      .process([] { return std::make_unique<winning_bids>(); }, rill::named("q4-winning-bids"),
               {winning_bids::store})
      .group_by_key()  // by category
      .aggregate([] { return q4_result{}; },
                 [](const key_t&, const std::int64_t& price, q4_result r) {
                   r.sum += price;
                   ++r.count;
                   r.average = static_cast<double>(r.sum) / static_cast<double>(r.count);
                   return r;
                 })
      .to_stream()
      .to(out);
}

void q5(rill::streams_builder&, const event_stream& events, const std::string& out) {
  bids_of(events)
      .group_by_key()
      .windowed_by(rill::hopping_window(milliseconds(window_ms), milliseconds(period_ms)))
      .count()
      .to_stream()
      .filter([](const rill::windowed<key_t>&, const std::optional<std::int64_t>& n) {
        return n.has_value();
      })
      .map([](const rill::windowed<key_t>& w, std::optional<std::int64_t> n) {
        return std::pair{static_cast<key_t>(w.window.start), q5_result{w.key, *n}};
      })
      .group_by_key()
      .reduce([](q5_result best, const q5_result& c) {
        if (c.count != best.count) return c.count > best.count ? c : best;
        return c.auction < best.auction ? c : best;
      })
      .to_stream()
      .to(out);
}

void q7(rill::streams_builder&, const event_stream& events, const std::string& out) {
  bids_of(events)
      .group_by_key()
      .windowed_by(rill::tumbling_window(milliseconds(window_ms)))
      .reduce([](bid best, const bid& b) { return better_bid(best, b); })
      .to_stream()
      .filter(
          [](const rill::windowed<key_t>&, const std::optional<bid>& b) { return b.has_value(); })
      .map([](const rill::windowed<key_t>& w, std::optional<bid> b) {
        return std::pair{static_cast<key_t>(w.window.start), std::move(*b)};
      })
      .group_by_key()
      .reduce([](bid best, const bid& b) { return better_bid(best, b); })
      .to_stream()
      .to(out);
}

void q8(rill::streams_builder&, const event_stream& events, const std::string& out,
        const query_options& o) {
  auto people = persons_of(events).select_key(
      [](const key_t&, const person& p) { return q8_key(p.id, p.date_time); });
  auto openings = auctions_of(events).select_key(
      [](const key_t&, const auction& a) { return q8_key(a.seller, a.date_time); });
  people
      .join(
          openings,
          [](const person& p, const auction& a) {
            return q8_result{p.id, p.name, a.reserve, a.id, p.date_time / window_ms * window_ms};
          },
          rill::join_window(milliseconds(window_ms)).grace(milliseconds(o.q8_grace_ms)))
      .to(out);
}

}  // namespace

const std::vector<query_info>& all_queries() {
  static const std::vector<query_info> q{
      {"q0", "pass-through (bids)", false},
      {"q1", "currency conversion", false},
      {"q2", "selection (auction % 123 == 0)", false},
      {"q3", "local item suggestion (foreign-key join)", true},
      {"q4", "average winning price per category", true},
      {"q5", "hot items (hopping window 10 s / 5 s)", true},
      {"q7", "highest bid (tumbling window 10 s)", true},
      {"q8", "new users (windowed join, 10 s)", false},
  };
  return q;
}

const query_info& query(const std::string& id) {
  for (const auto& q : all_queries())
    if (q.id == id) return q;
  throw std::invalid_argument("no Nexmark query " + id + " (q0-q5, q7, q8)");
}

void add_query(const std::string& id, rill::streams_builder& b, const event_stream& events,
               const std::string& out, const query_options& o) {
  if (id == "q0") {
    bids_of(events).to(out);
  } else if (id == "q1") {
    bids_of(events)
        .map_values([](bid x) {
          x.price = x.price * 89 / 100;
          return x;
        })
        .to(out);
  } else if (id == "q2") {
    bids_of(events)
        .filter([](const key_t&, const bid& x) { return x.auction % auction_skip == 0; })
        .map_values([](const bid& x) {
          return q2_result{x.auction, x.price};
        })
        .to(out);
  } else if (id == "q3") {
    q3(b, events, out);
  } else if (id == "q4") {
    q4(b, events, out);
  } else if (id == "q5") {
    q5(b, events, out);
  } else if (id == "q7") {
    q7(b, events, out);
  } else if (id == "q8") {
    q8(b, events, out, o);
  } else {
    query(id);  // throws, naming the queries there are
  }
}

rill::topology build_topology(const std::vector<std::string>& ids, const std::string& input,
                              const std::string& out_prefix, const query_options& o) {
  rill::streams_builder b;
  auto events = b.stream<std::int64_t, event>(input);
  for (const auto& id : ids) add_query(id, b, events, out_prefix + id, o);
  return b.build();
}

}  // namespace nexmark
