// The Nexmark generator (generator.hpp): the specification's id, time and size rules.
#include "generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace nexmark {

namespace {

constexpr std::int64_t person_id_lead = 10;   // ids of persons not yet created may be named
constexpr std::int64_t auction_id_lead = 10;  // likewise auctions
constexpr std::int64_t hot_seller_ratio = 100;
constexpr std::int64_t hot_auction_ratio = 100;
constexpr std::int64_t hot_bidder_ratio = 100;

constexpr std::array<std::string_view, 6> us_states{"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> us_cities{
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 11> first_names{
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> last_names{
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};

// One event's random stream (SplitMix64), seeded by its id.
class random_stream {
 public:
  explicit random_stream(std::int64_t seed)
      : _state(static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull) {}
  std::uint64_t next() {
    std::uint64_t z = (_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  std::int64_t below(std::int64_t n) {
    const auto wide = static_cast<unsigned __int128>(next()) * static_cast<std::uint64_t>(n);
    return static_cast<std::int64_t>(wide >> 64);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t _state;
};

// Up to max_length characters, at least 3, lower-case letters with about one space in 13,
// trimmed.
std::string next_string(random_stream& r, int max_length) {
  const std::int64_t len = 3 + r.below(max_length - 3);
  std::string s;
  s.reserve(static_cast<std::size_t>(len));
  for (std::int64_t i = 0; i < len; ++i)
    s.push_back(r.below(13) == 0 ? ' ' : static_cast<char>('a' + r.below(26)));
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::string next_exact_string(random_stream& r, std::int64_t length) {
  std::string s(static_cast<std::size_t>(std::max<std::int64_t>(length, 0)), 'a');
  for (auto& ch : s) ch = static_cast<char>('a' + r.below(26));
  return s;
}

// Padding such that current + padding is on average `average` bytes (±20 %).
std::string next_extra(random_stream& r, std::int64_t current, std::int64_t average) {
  if (current > average) return {};
  average -= current;
  const auto delta = static_cast<std::int64_t>(std::llround(static_cast<double>(average) * 0.2));
  const std::int64_t size = average - delta + (delta == 0 ? 0 : r.below(2 * delta));
  return next_exact_string(r, size);
}

// Cents: 10^(6u) dollars' worth, from 1 to 10^8.
std::int64_t next_price(random_stream& r) {
  return std::llround(std::pow(10.0, r.unit() * 6.0) * 100.0);
}

std::int64_t next_base0_person_id(const generator_config& c, std::int64_t event_id,
                                  random_stream& r) {
  const std::int64_t people = last_base0_person_id(c, event_id) + 1;
  const std::int64_t active = std::min<std::int64_t>(people, c.num_active_people);
  return people - active + r.below(active + person_id_lead);
}

std::int64_t next_base0_auction_id(const generator_config& c, std::int64_t event_id,
                                   random_stream& r) {
  const std::int64_t last = last_base0_auction_id(c, event_id);
  const std::int64_t lowest = std::max<std::int64_t>(last - c.num_in_flight_auctions, 0);
  return lowest + r.below(last - lowest + 1 + auction_id_lead);
}

person make_person(const generator_config& c, std::int64_t id, std::int64_t ts, random_stream& r) {
  person p;
  p.id = last_base0_person_id(c, id) + first_person_id;
  p.name = fmt::format("{} {}", first_names[static_cast<std::size_t>(r.below(11))],
                       last_names[static_cast<std::size_t>(r.below(9))]);
  p.email_address = next_string(r, 7) + "@" + next_string(r, 5) + ".com";
  p.credit_card = fmt::format("{:04} {:04} {:04} {:04}", r.below(10000), r.below(10000),
                              r.below(10000), r.below(10000));
  p.city = us_cities[static_cast<std::size_t>(r.below(10))];
  p.state = us_states[static_cast<std::size_t>(r.below(6))];
  p.date_time = ts;
  const auto size = 8 + p.name.size() + p.email_address.size() + p.credit_card.size() +
                    p.city.size() + p.state.size();
  p.extra = next_extra(r, static_cast<std::int64_t>(size), c.avg_person_bytes);
  return p;
}

auction make_auction(const generator_config& c, std::int64_t n, std::int64_t id, std::int64_t ts,
                     random_stream& r) {
  auction a;
  a.id = last_base0_auction_id(c, id) + first_auction_id;
  if (r.below(c.hot_sellers_ratio) > 0)  // a hot seller: the first of the last 100 persons
    a.seller = (last_base0_person_id(c, id) / hot_seller_ratio) * hot_seller_ratio;
  else
    a.seller = next_base0_person_id(c, id, r);
  a.seller += first_person_id;
  a.category = first_category_id + r.below(num_categories);
  a.initial_bid = next_price(r);
  // Open on average until num_in_flight_auctions more auctions have been created.
  const std::int64_t events_for_auctions =
      std::int64_t{c.num_in_flight_auctions} * c.total_proportion() / c.auction_proportion;
  const std::int64_t horizon = c.timestamp_for(n + events_for_auctions) - ts;
  a.expires = ts + 1 + r.below(std::max<std::int64_t>(horizon * 2, 1));
  a.item_name = next_string(r, 20);
  a.description = next_string(r, 100);
  a.reserve = a.initial_bid + next_price(r);
  a.date_time = ts;
  const auto size = 8 + a.item_name.size() + a.description.size() + 8 * 5;
  a.extra = next_extra(r, static_cast<std::int64_t>(size), c.avg_auction_bytes);
  return a;
}

bid make_bid(const generator_config& c, std::int64_t id, std::int64_t ts, random_stream& r) {
  bid b;
  if (r.below(c.hot_auction_ratio) > 0)  // a hot auction: the first of the last 100
    b.auction = (last_base0_auction_id(c, id) / hot_auction_ratio) * hot_auction_ratio;
  else
    b.auction = next_base0_auction_id(c, id, r);
  b.auction += first_auction_id;
  if (r.below(c.hot_bidders_ratio) > 0)  // a hot bidder: the second of the last 100 persons
    b.bidder = (last_base0_person_id(c, id) / hot_bidder_ratio) * hot_bidder_ratio + 1;
  else
    b.bidder = next_base0_person_id(c, id, r);
  b.bidder += first_person_id;
  b.price = next_price(r);
  b.date_time = ts;
  b.extra = next_extra(r, 8 * 4, c.avg_bid_bytes);
  return b;
}

}  // namespace

std::int64_t generator_config::timestamp_for(std::int64_t event_number) const {
  const double delay_us = 1e6 / rate;
  return base_time + static_cast<std::int64_t>(static_cast<double>(event_number) * delay_us) / 1000;
}

std::int64_t last_base0_person_id(const generator_config& c, std::int64_t event_id) {
  const std::int64_t epoch = event_id / c.total_proportion();
  std::int64_t offset = event_id % c.total_proportion();
  if (offset >= c.person_proportion) offset = c.person_proportion - 1;
  return epoch * c.person_proportion + offset;
}

std::int64_t last_base0_auction_id(const generator_config& c, std::int64_t event_id) {
  std::int64_t epoch = event_id / c.total_proportion();
  std::int64_t offset = event_id % c.total_proportion();
  if (offset < c.person_proportion) {  // a person: the last auction of the previous epoch
    --epoch;
    offset = c.auction_proportion - 1;
  } else if (offset >= c.person_proportion + c.auction_proportion) {  // a bid
    offset = c.auction_proportion - 1;
  } else {
    offset -= c.person_proportion;
  }
  return epoch * c.auction_proportion + offset;
}

event make_event(const generator_config& c, std::int64_t n) {
  const std::int64_t id = n;  // one generator, no out-of-order groups: the id is the number
  const std::int64_t ts = c.timestamp_for(n);
  random_stream r(id);
  const std::int64_t rem = id % c.total_proportion();
  event e;
  if (rem < c.person_proportion) {
    e.kind = person_kind;
    e.new_person = make_person(c, id, ts, r);
  } else if (rem < c.person_proportion + c.auction_proportion) {
    e.kind = auction_kind;
    e.new_auction = make_auction(c, n, id, ts, r);
  } else {
    e.kind = bid_kind;
    e.new_bid = make_bid(c, id, ts, r);
  }
  return e;
}

std::int64_t event_key(const event& e) {
  if (e.new_person) return e.new_person->id;
  if (e.new_auction) return e.new_auction->id;
  return e.new_bid->auction;
}

std::int64_t event_time(const event& e) {
  if (e.new_person) return e.new_person->date_time;
  if (e.new_auction) return e.new_auction->date_time;
  return e.new_bid->date_time;
}

std::string check_generator(const generator_config& c) {
  std::int64_t persons = 0, auctions = 0, previous_time = c.base_time;
  std::string broken;
  auto rule = [&](bool holds, std::int64_t n, const char* what) {
    if (!holds && broken.empty()) broken = fmt::format("event {}: {}", n, what);
  };
  for (std::int64_t n = 0; n < c.events && broken.empty(); ++n) {
    const event e = make_event(c, n);
    const std::int64_t slot = n % c.total_proportion();
    rule(event_time(e) >= previous_time && event_time(e) == c.timestamp_for(n), n, "event time");
    previous_time = event_time(e);
    if (slot < c.person_proportion) {
      rule(e.kind == person_kind && e.new_person->id == first_person_id + persons, n, "person id");
      ++persons;
    } else if (slot < c.person_proportion + c.auction_proportion) {
      const auction* a = e.kind == auction_kind ? &*e.new_auction : nullptr;
      rule(a && a->id == first_auction_id + auctions, n, "auction id");
      if (!a) continue;
      ++auctions;
      rule(a->category >= first_category_id && a->category < first_category_id + num_categories, n,
           "category");
      rule(a->expires > a->date_time && a->reserve >= a->initial_bid, n, "expiry or reserve");
      rule(a->seller >= first_person_id && a->seller < first_person_id + persons + 10, n, "seller");
    } else {
      const bid* b = e.kind == bid_kind ? &*e.new_bid : nullptr;
      rule(b && b->auction >= first_auction_id && b->auction < first_auction_id + auctions + 10, n,
           "bid's auction");
      if (!b) continue;
      rule(b->bidder >= first_person_id && b->bidder < first_person_id + persons + 10, n, "bidder");
      rule(b->price >= 1 && b->price <= 100'000'000, n, "price");
    }
  }
  return broken;
}

void generate(const generator_config& c, const std::function<void(const event&)>& emit) {
  for (std::int64_t n = 0; n < c.events; ++n) emit(make_event(c, n));
}

}  // namespace nexmark
