// The Nexmark queries q0–q5, q7, q8 as Rill topologies over one topic of kind-tagged events
// (model.hpp; keyed as generator.hpp's event_key says), and the same queries computed by plain
// C++ over the generated events, with which every run's output is checked (check.cpp).
//
//   q0  pass-through: every bid, as it is
//   q1  currency conversion: every bid, price in euros (price * 89 / 100, Beam's rule)
//   q2  selection: (auction, price) of bids whose auction is a multiple of 123
//   q3  local item suggestion: auctions of category 10 joined with their sellers who live in
//       OR, ID or CA (a foreign-key table-table join: (name, city, state, auction id))
//   q4  average price per category: the winning bid of each closed auction (the highest in
//       [start, expiry) at least the reserve), averaged per category
//   q5  hot items: bids per auction in hopping windows of 10 s every 5 s; per window the
//       auction with the most bids
//   q7  highest bid: per tumbling window of 10 s the bid with the highest price
//   q8  new users: persons who opened an auction in the tumbling 10 s window they
//       registered in (a windowed stream-stream join), one result per (person, auction)
//
// Where a query's Rill form departs from the specification's, queries.cpp says how.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rill/rill.hpp>

#include "model.hpp"

namespace nexmark {

inline constexpr std::int64_t window_ms = 10'000;  // windowSizeSec (q5, q7, q8)
inline constexpr std::int64_t period_ms = 5'000;   // windowPeriodSec (q5)
inline constexpr std::int64_t auction_skip = 123;  // q2

struct query_info {
  std::string id;
  std::string what;
  bool table_output;  // a table's updates (the last value per key counts), else a stream
};
const std::vector<query_info>& all_queries();
const query_info& query(const std::string& id);

using event_stream = rill::stream<std::int64_t, event>;

struct query_options {
  // q8's join grace: the repartitioned persons and auctions reach the join out of time
  // order (they come from many tasks); the grace keeps every pair (queries.cpp).
  std::int64_t q8_grace_ms = 0;
};

// Adds query `id` on `events`, writing its results to `out`.
void add_query(const std::string& id, rill::streams_builder& b, const event_stream& events,
               const std::string& out, const query_options& o);

// A topology of the given queries over `input`, each writing to out_prefix + id.
rill::topology build_topology(const std::vector<std::string>& ids, const std::string& input,
                              const std::string& out_prefix, const query_options& o);

// --- checks ---------------------------------------------------------------------------------

struct output_record {
  std::optional<rill::bytes> key;
  std::optional<rill::bytes> value;
};

// A query's result as sorted lines of text: a stream's records, or a table's last value per key
// (a delete removes the key).
std::vector<std::string> observed_lines(const std::string& id,
                                        const std::vector<output_record>& records);
// The same, computed from the events by plain C++ (reference.cpp).
// `partitions`: the events topic's (q4 closes auctions by the stream time of their partition).
struct generator_config;
std::vector<std::string> expected_lines(const std::string& id, const generator_config& c,
                                        int partitions);
// Empty when equal, else what differs (counts and the first lines that differ).
std::string compare_lines(const std::vector<std::string>& want,
                          const std::vector<std::string>& got);

}  // namespace nexmark
