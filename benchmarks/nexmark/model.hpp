// Nexmark's three event kinds (Person, Auction, Bid), the event that carries one of them
// with a kind tag, and the queries' result records. Plain structs: Rill's JSON serde is
// derived by reflection (BOOST_HANA_ADAPT_STRUCT), as a user's would be. Field names follow
// the Nexmark SQL schema (nexmark/nexmark's Flink DDL), in snake case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <rill/rill.hpp>

namespace nexmark {

struct person {
  std::int64_t id = 0;
  std::string name;
  std::string email_address;
  std::string credit_card;
  std::string city;
  std::string state;
  std::int64_t date_time = 0;  // ms since the epoch
  std::string extra;
};

struct auction {
  std::int64_t id = 0;
  std::string item_name;
  std::string description;
  std::int64_t initial_bid = 0;
  std::int64_t reserve = 0;
  std::int64_t date_time = 0;
  std::int64_t expires = 0;
  std::int64_t seller = 0;
  std::int64_t category = 0;
  std::string extra;
};

struct bid {
  std::int64_t auction = 0;
  std::int64_t bidder = 0;
  std::int64_t price = 0;
  std::int64_t date_time = 0;
  std::string extra;
};

// One topic carries every event; `kind` tells which member is set (Flink's event_type).
enum kind : std::int32_t { person_kind = 0, auction_kind = 1, bid_kind = 2 };

struct event {
  std::int32_t kind = 0;
  std::optional<nexmark::person> new_person;
  std::optional<nexmark::auction> new_auction;
  std::optional<nexmark::bid> new_bid;
};

// --- results -------------------------------------------------------------------------------

struct q2_result {  // selection
  std::int64_t auction = 0;
  std::int64_t price = 0;
};

struct q3_result {  // local item suggestion
  std::string name;
  std::string city;
  std::string state;
  std::int64_t id = 0;  // the auction
};

struct q4_open {  // an auction still open, with its best qualifying bid so far (-1: none)
  std::int64_t start = 0;
  std::int64_t expires = 0;
  std::int64_t reserve = 0;
  std::int64_t category = 0;
  std::int64_t best = -1;
};

struct q4_result {  // average winning price of one category
  std::int64_t sum = 0;
  std::int64_t count = 0;
  double average = 0;
};

struct q5_result {  // the hottest auction of one hopping window
  std::int64_t auction = 0;
  std::int64_t count = 0;
};

struct q8_result {  // a new user who opened an auction in the window they registered in
  std::int64_t id = 0;
  std::string name;
  std::int64_t reserve = 0;
  std::int64_t auction = 0;
  std::int64_t window_start = 0;
};

}  // namespace nexmark

BOOST_HANA_ADAPT_STRUCT(nexmark::person, id, name, email_address, credit_card, city, state,
                        date_time, extra);
BOOST_HANA_ADAPT_STRUCT(nexmark::auction, id, item_name, description, initial_bid, reserve,
                        date_time, expires, seller, category, extra);
BOOST_HANA_ADAPT_STRUCT(nexmark::bid, auction, bidder, price, date_time, extra);
BOOST_HANA_ADAPT_STRUCT(nexmark::event, kind, new_person, new_auction, new_bid);
BOOST_HANA_ADAPT_STRUCT(nexmark::q2_result, auction, price);
BOOST_HANA_ADAPT_STRUCT(nexmark::q3_result, name, city, state, id);
BOOST_HANA_ADAPT_STRUCT(nexmark::q4_open, start, expires, reserve, category, best);
BOOST_HANA_ADAPT_STRUCT(nexmark::q4_result, sum, count, average);
BOOST_HANA_ADAPT_STRUCT(nexmark::q5_result, auction, count);
BOOST_HANA_ADAPT_STRUCT(nexmark::q8_result, id, name, reserve, auction, window_start);
