// The event router: a stateless service over JSON events. It drops nothing: a malformed
// record goes to the dead-letter topic, an event missing its user or type goes to
// `events-rejected`, and every other event is enriched and routed to `events-<type>`
// (click, purchase, signup) or `events-other`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rill/json.hpp>
#include <rill/rill.hpp>

namespace event_router {

struct event {
  std::string id;
  std::string type;
  std::string user;
  double amount = 0;
  std::optional<std::string> country;
  std::map<std::string, std::string> attributes;
};

struct routed_event {
  std::string id;
  std::string type;
  std::string user;
  double amount = 0;
  std::string region;       // from the country
  bool high_value = false;  // amount >= 100
  std::map<std::string, std::string> attributes;
};

}  // namespace event_router

BOOST_HANA_ADAPT_STRUCT(event_router::event, id, type, user, amount, country, attributes);
BOOST_HANA_ADAPT_STRUCT(event_router::routed_event, id, type, user, amount, region, high_value,
                        attributes);

namespace event_router {

// Topic names; `prefix` lets several runs share one cluster.
struct topics {
  std::string prefix;
  std::string input() const { return prefix + "events"; }
  std::string rejected() const { return prefix + "events-rejected"; }
  std::string dead_letter() const { return prefix + "events-dlq"; }
  std::string routed(const std::string& type) const;
  std::vector<std::string> outputs() const;
};

inline const char* const routed_types[] = {"click", "purchase", "signup"};

inline std::string region_of(const std::optional<std::string>& country) {
  static const std::map<std::string, std::string> regions = {
      {"DE", "emea"}, {"FR", "emea"}, {"GB", "emea"}, {"US", "amer"}, {"CA", "amer"},
      {"BR", "amer"}, {"JP", "apac"}, {"IN", "apac"}, {"AU", "apac"}};
  if (!country) return "unknown";
  auto it = regions.find(*country);
  return it == regions.end() ? "unknown" : it->second;
}

inline std::string topics::routed(const std::string& type) const {
  for (const char* t : routed_types) {
    if (type == t) return prefix + "events-" + type;
  }
  return prefix + "events-other";
}

inline std::vector<std::string> topics::outputs() const {
  std::vector<std::string> out{rejected(), dead_letter(), prefix + "events-other"};
  for (const char* t : routed_types) out.push_back(prefix + "events-" + t);
  return out;
}

inline bool valid(const event& e) {
  return !e.id.empty() && !e.user.empty() && !e.type.empty();
}

inline routed_event enrich(const event& e) {
  return {e.id, e.type, e.user, e.amount, region_of(e.country), e.amount >= 100, e.attributes};
}

inline rill::topology topology(const topics& t = {}) {
  rill::streams_builder b;
  auto branches =
      b.stream<std::string, event>(t.input(), {.name = "events-source"})
          .split(rill::named("events-"))
          .branch([](const std::string&, const event& e) { return valid(e); }, {"valid"})
          .default_branch({"rejected"});
  branches.at("events-rejected").to(t.rejected(), {.name = "rejected-sink"});
  branches.at("events-valid")
      .map_values([](const event& e) { return enrich(e); }, rill::named("enrich"))
      .map_record(
          [](rill::record<std::string, routed_event> r) {
            r.headers.set("routed-by", "rill-event-router");
            return r;
          },
          rill::named("stamp"))
      .to([t](const std::string&, const routed_event& e,
              const rill::record_context&) { return t.routed(e.type); },
          {.name = "route"});
  return b.build();
}

// Settings the service runs with (plus the broker's).
inline rill::config settings(const std::string& application_id, const topics& t = {}) {
  return rill::config{{"application.id", application_id},
                      {"default.deserialization.exception.handler", "dead_letter"},
                      {"errors.dead.letter.queue.topic.name", t.dead_letter()},
                      {"commit.interval.ms", "500"}};
}

}  // namespace event_router
