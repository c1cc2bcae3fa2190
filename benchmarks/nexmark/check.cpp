// What a query wrote, as the lines the reference computes (lines.hpp), and their comparison.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "lines.hpp"
#include "queries.hpp"

namespace nexmark {

namespace {

template <class T>
T decode(const rill::bytes& b, bool is_key) {
  static const auto serde = rill::default_serde<T>();
  const rill::bytes_view view(b);
  return serde.decode(&view, {"nexmark-output", is_key, nullptr});
}

// A stream: every record's value is a line.
template <class V, class F>
std::vector<std::string> stream_lines(const std::vector<output_record>& records, F line) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(r.value ? line(decode<V>(*r.value, false)) : "null");
  return out;
}

// A table keyed by an int64: the last value per key; a null value deletes.
template <class V, class F>
std::vector<std::string> table_lines(const std::vector<output_record>& records, F line) {
  std::map<std::int64_t, std::string> last;
  for (const auto& r : records) {
    const std::int64_t key = r.key ? decode<std::int64_t>(*r.key, true) : -1;
    if (r.value)
      last[key] = line(key, decode<V>(*r.value, false));
    else
      last.erase(key);
  }
  std::vector<std::string> out;
  for (auto& [k, l] : last) out.push_back(std::move(l));
  return out;
}

}  // namespace

std::vector<std::string> observed_lines(const std::string& id,
                                        const std::vector<output_record>& records) {
  std::vector<std::string> out;
  auto bid_line = [](const bid& b) { return lines::of(b); };
  if (id == "q0" || id == "q1")
    out = stream_lines<bid>(records, bid_line);
  else if (id == "q2")
    out = stream_lines<q2_result>(records, [](const q2_result& r) { return lines::of(r); });
  else if (id == "q3")
    out = table_lines<q3_result>(
        records, [](std::int64_t k, const q3_result& r) { return lines::of(k, r); });
  else if (id == "q4")
    out = table_lines<q4_result>(
        records, [](std::int64_t k, const q4_result& r) { return lines::of(k, r); });
  else if (id == "q5")
    out = table_lines<q5_result>(
        records, [](std::int64_t k, const q5_result& r) { return lines::of(k, r); });
  else if (id == "q7")
    out = table_lines<bid>(records, [](std::int64_t k, const bid& b) { return lines::of(k, b); });
  else if (id == "q8")
    out = stream_lines<q8_result>(records, [](const q8_result& r) { return lines::of(r); });
  else
    query(id);  // throws
  std::sort(out.begin(), out.end());
  return out;
}

std::string compare_lines(const std::vector<std::string>& want,
                          const std::vector<std::string>& got) {
  if (want == got) return "";
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  return fmt::format("{} results, want {}: {} missing (first: '{}'), {} unexpected (first: '{}')",
                     got.size(), want.size(), missing.size(),
                     missing.empty() ? "" : missing.front(), extra.size(),
                     extra.empty() ? "" : extra.front());
}

}  // namespace nexmark
