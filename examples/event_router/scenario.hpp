// The event router's test scenario: a generator of input (valid events of every type, events
// missing their user, malformed JSON) and a checker that reads every output topic back and
// says what is missing, duplicated, misrouted or wrongly enriched.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "router.hpp"

namespace event_router {

struct input {
  std::string key;
  std::optional<event> parsed;  // nullopt: `raw` is malformed on purpose
  std::string raw;              // the bytes written
};

// Deterministic for (count, seed): every 37th record is malformed, every 23rd lacks its user.
inline std::vector<input> generate(std::size_t count, std::uint32_t seed = 1) {
  static const char* types[] = {"click", "purchase", "signup", "refund", "view"};
  static const char* countries[] = {"DE", "US", "JP", "BR", "XX", ""};
  std::vector<input> out;
  std::uint64_t state = seed;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  rill::json_serde<event> serde;
  for (std::size_t i = 0; i < count; ++i) {
    input in;
    in.key = fmt::format("user-{}", next() % 97);
    if (i % 37 == 36) {
      in.raw = fmt::format("{{\"id\": \"e{}\", \"type\": broken", i);
    } else {
      event e;
      e.id = fmt::format("e{}", i);
      e.type = types[next() % 5];
      e.user = i % 23 == 22 ? "" : in.key;
      e.amount = static_cast<double>(next() % 25000) / 100.0;
      const char* c = countries[next() % 6];
      if (*c != '\0') e.country = c;
      e.attributes["seq"] = std::to_string(i);
      rill::bytes b;
      serde.serialize(e, b, {"events"});
      in.raw = std::string(rill::as_chars(b));
      in.parsed = std::move(e);
    }
    out.push_back(std::move(in));
  }
  return out;
}

struct check_result {
  std::size_t expected = 0;
  std::size_t delivered = 0;  // distinct inputs whose effect was found
  std::size_t missing = 0;
  std::size_t duplicates = 0;  // extra copies (at-least-once allows them after a failure)
  std::size_t misrouted = 0;   // in the wrong topic, or enriched wrongly
  std::size_t dead_lettered = 0;
  std::size_t rejected = 0;
  std::vector<std::string> problems;  // the first few, for the report

  bool ok() const { return missing == 0 && misrouted == 0; }
  std::string summary() const {
    return fmt::format(
        "{} inputs: {} delivered ({} routed, {} rejected, {} dead-lettered), {} missing, {} "
        "duplicates, "
        "{} misrouted",
        expected, delivered, delivered - rejected - dead_lettered, rejected, dead_lettered, missing,
        duplicates, misrouted);
  }
};

// What the service wrote, as the checker reads it.
struct outputs {
  std::map<std::string, std::vector<rill::kafka_record<std::string, routed_event>>>
      routed;  // by topic
  std::vector<rill::kafka_record<std::string, event>> rejected;
  std::vector<rill::kafka_record<std::string, rill::bytes>> dead_letters;
};

// Reads every output topic of the service as records arrive.
class output_reader {
 public:
  output_reader(const std::string& bootstrap, const std::map<std::string, std::string>& props,
                const topics& names)
      : _rejected(bootstrap, names.rejected(), props),
        _dead(bootstrap, names.dead_letter(), props) {
    for (const auto& t : names.outputs()) {
      if (t == names.rejected() || t == names.dead_letter()) continue;
      _routed.emplace_back(
          t, std::make_unique<rill::topic_reader<std::string, routed_event>>(bootstrap, t, props));
    }
  }
  // Reads what arrives within about `time`.
  void read_for(std::chrono::milliseconds time) {
    const auto until = std::chrono::steady_clock::now() + time;
    do {
      for (auto& [topic, reader] : _routed) drain(*reader, _outputs.routed[topic]);
      drain(_rejected, _outputs.rejected);
      drain(_dead, _outputs.dead_letters);
    } while (std::chrono::steady_clock::now() < until);
  }
  const outputs& get() const { return _outputs; }

 private:
  template <class Reader, class Into>
  static void drain(Reader& reader, Into& into) {
    for (auto& r : reader.read(100000, std::chrono::milliseconds(20))) into.push_back(std::move(r));
  }
  std::vector<
      std::pair<std::string, std::unique_ptr<rill::topic_reader<std::string, routed_event>>>>
      _routed;
  rill::topic_reader<std::string, event> _rejected;
  rill::topic_reader<std::string, rill::bytes> _dead;
  outputs _outputs;
};

check_result check(const std::vector<input>& inputs, const outputs& o, const topics& names);

// Reads the outputs until every input is accounted for or `timeout` passes, then a moment
// longer to count duplicates still on their way; returns the check of what was read.
inline check_result read_and_check(const std::string& bootstrap,
                                   const std::map<std::string, std::string>& props,
                                   const std::vector<input>& inputs,
                                   std::chrono::milliseconds timeout, const topics& names = {},
                                   outputs* read = nullptr) {
  output_reader reader(bootstrap, props, names);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  check_result result;
  do {
    reader.read_for(std::chrono::milliseconds(250));
    result = check(inputs, reader.get(), names);
  } while (result.missing > 0 && std::chrono::steady_clock::now() < deadline);
  reader.read_for(std::chrono::milliseconds(500));
  result = check(inputs, reader.get(), names);
  if (read != nullptr) *read = reader.get();
  return result;
}

inline check_result check(const std::vector<input>& inputs, const outputs& o, const topics& names) {
  check_result r;
  r.expected = inputs.size();
  std::map<std::string, std::size_t> seen;  // event id (or malformed raw) -> copies
  auto problem = [&](std::string p) {
    if (r.problems.size() < 10) r.problems.push_back(std::move(p));
  };
  std::map<std::string, const input*> by_id;
  std::map<std::string, const input*> malformed;
  for (const auto& in : inputs) {
    if (in.parsed)
      by_id[in.parsed->id] = &in;
    else
      malformed[in.raw] = &in;
  }
  for (const auto& [topic, records] : o.routed) {
    for (const auto& rec : records) {
      ++seen[rec.value.id];
      auto it = by_id.find(rec.value.id);
      if (it == by_id.end()) {
        ++r.misrouted;
        problem(fmt::format("{}: unknown event {}", topic, rec.value.id));
        continue;
      }
      const event& e = *it->second->parsed;
      routed_event want = enrich(e);
      bool right = valid(e) && topic == names.routed(e.type) && rec.key == it->second->key &&
                   rec.value.region == want.region && rec.value.high_value == want.high_value &&
                   rec.value.user == e.user && rec.value.attributes == e.attributes &&
                   rec.headers.get("routed-by") == "rill-event-router";
      if (!right) {
        ++r.misrouted;
        problem(fmt::format("{}: event {} routed or enriched wrongly", topic, e.id));
      }
    }
  }
  for (const auto& rec : o.rejected) {
    ++seen[rec.value.id];
    auto it = by_id.find(rec.value.id);
    if (it == by_id.end() || valid(*it->second->parsed)) {
      ++r.misrouted;
      problem(fmt::format("rejected: event {} should not be there", rec.value.id));
    }
  }
  for (const auto& rec : o.dead_letters) {
    std::string raw(rill::as_chars(rec.value));
    ++seen[raw];
    if (!malformed.contains(raw) || rec.headers.get("__streams.errors.topic") != names.input() ||
        rec.headers.get("__streams.errors.exception") != "rill::serde_error") {
      ++r.misrouted;
      problem(fmt::format("dead letter '{}' unexpected or without its error headers", raw));
    }
  }
  for (const auto& in : inputs) {
    const std::string id = in.parsed ? in.parsed->id : in.raw;
    auto it = seen.find(id);
    if (it == seen.end()) {
      ++r.missing;
      problem(fmt::format("missing: {}", in.parsed ? in.parsed->id : "malformed " + in.raw));
      continue;
    }
    ++r.delivered;
    r.duplicates += it->second - 1;
    if (!in.parsed)
      ++r.dead_lettered;
    else if (!valid(*in.parsed))
      ++r.rejected;
  }
  return r;
}

}  // namespace event_router
