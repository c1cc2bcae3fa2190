// The text lines in which a query's results are compared (check.cpp, reference.cpp): one
// format per result, shared by what Rill wrote and what the reference computes.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "model.hpp"

namespace nexmark::lines {

inline std::uint64_t fnv(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

inline std::string of(const bid& b) {
  return fmt::format("{} {} {} {} {:x}", b.auction, b.bidder, b.price, b.date_time, fnv(b.extra));
}
inline std::string of(const q2_result& r) {
  return fmt::format("{} {}", r.auction, r.price);
}
inline std::string of(std::int64_t key, const q3_result& r) {
  return fmt::format("{} {}|{}|{}|{}", key, r.name, r.city, r.state, r.id);
}
inline std::string of(std::int64_t category, const q4_result& r) {
  return fmt::format("{} {} {}", category, r.sum, r.count);
}
inline std::string of(std::int64_t window_start, const q5_result& r) {
  return fmt::format("{} {} {}", window_start, r.auction, r.count);
}
inline std::string of(std::int64_t window_start, const bid& b) {
  return fmt::format("{} {}", window_start, of(b));
}
inline std::string of(const q8_result& r) {
  return fmt::format("{} {} {} {} {}", r.id, r.name, r.reserve, r.auction, r.window_start);
}

}  // namespace nexmark::lines
