// The Nexmark event generator, after the specification as Apache Beam's Nexmark suite (and the
// nexmark/nexmark Flink suite that follows it) implements it: persons, auctions and bids in
// the proportion 1 : 3 : 46 of every 50 events, ids that start at 1000, sellers and bidders
// drawn from the 1 000 most recent persons (or a "hot" one), auctions from the 100 in flight
// (or a "hot" one), prices 10^(6u) cents, auctions that expire within twice the time 100 more
// auctions take to appear, and padding ("extra") to the average sizes 200 / 500 / 100 bytes.
// Event n has the event time base + n · 10^6 / rate µs (in ms): one generator, in order.
//
// Each event draws from a random stream seeded by its id (as Beam's `new Random(eventId)`),
// so any event can be made on its own; the stream is this file's own (SplitMix64), so the
// strings are not Beam's byte for byte, but every rule above is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "model.hpp"

namespace nexmark {

struct generator_config {
  long events = 1'000'000;
  std::int64_t base_time = 1'700'000'000'000;  // event time of event 0, ms since the epoch
  double rate = 10'000;                        // events per second of event time
  int person_proportion = 1;
  int auction_proportion = 3;
  int bid_proportion = 46;
  int num_active_people = 1000;
  int num_in_flight_auctions = 100;
  int avg_person_bytes = 200;
  int avg_auction_bytes = 500;
  int avg_bid_bytes = 100;
  int hot_auction_ratio = 2;  // P(hot auction) = 1 - 1/2
  int hot_sellers_ratio = 4;  // P(hot seller) = 1 - 1/4
  int hot_bidders_ratio = 4;  // P(hot bidder) = 1 - 1/4

  int total_proportion() const { return person_proportion + auction_proportion + bid_proportion; }
  std::int64_t timestamp_for(std::int64_t event_number) const;
};

inline constexpr std::int64_t first_person_id = 1000;
inline constexpr std::int64_t first_auction_id = 1000;
inline constexpr std::int64_t first_category_id = 10;
inline constexpr int num_categories = 5;

// Event `n` (0-based) of the stream.
event make_event(const generator_config& c, std::int64_t n);

// The key an event is written under: a person's id, an auction's id, a bid's auction. So the
// bids of an auction and the auction itself share a partition (and a task).
std::int64_t event_key(const event& e);
std::int64_t event_time(const event& e);

// Events 0 .. c.events - 1, in order.
void generate(const generator_config& c, const std::function<void(const event&)>& emit);

// Checks the first c.events events against the specification's rules that a reader can see:
// the 1 : 3 : 46 proportion in every 50 events, person and auction ids consecutive from 1000,
// event times non-decreasing at the rate, categories 10–14, expiry after creation, reserve at
// least the initial bid, sellers and bidders no more than 10 ids past the last person, bids
// no more than 10 past the last auction. Empty when all hold, else the first rule broken.
std::string check_generator(const generator_config& c);

// Base-0 id rules of the specification (exposed for the tests of the generator's rules).
std::int64_t last_base0_person_id(const generator_config& c, std::int64_t event_id);
std::int64_t last_base0_auction_id(const generator_config& c, std::int64_t event_id);

}  // namespace nexmark
