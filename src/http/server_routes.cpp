// The built-in routes: health, topology, and store reads forwarded to the owner of a key
// or gathered from every instance. docs/queries.md shows them with examples.
#include "src/http/server_routes.hpp"

#include <charconv>
#include <future>

#include "src/http/client.hpp"
#include "src/http/dot.hpp"
#include "src/http/range_merge.hpp"
#include "src/http/text.hpp"

namespace rill::http {

namespace {

response json(std::string body, int status = 200) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A time bound in ms from the query, or `fallback` when absent; non-numeric: 400.
std::int64_t time_param(const request& req, const std::string& name, std::int64_t fallback) {
  auto v = req.query_param(name);
  if (!v) return fallback;
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty())
    throw std::invalid_argument("query parameter '" + name + "' is not a time in milliseconds: '" +
                                *v + "'");
  return out;
}

bool forwarded(const request& req) {
  return req.header("x-rill-forwarded").has_value();
}

// The owner's answer if `key` lives on another instance (forwarded once), else nullopt.
std::optional<response> forward_if_elsewhere(backend& b, const server_options& o,
                                             const request& req, const std::string& store,
                                             const std::string& key) {
  auto owner = b.owner_of(store, key);
  auto self = b.self();
  if (!owner || *owner == self) return std::nullopt;
  if (forwarded(req)) {
    auto r = json_error(503, "key '" + key + "' of store '" + store + "' was forwarded to " + self +
                                 " by " + *req.header("x-rill-forwarded") +
                                 ", but this instance has it at " + *owner +
                                 ": the key's owner is moving; retry");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  try {
    client c(*owner);
    auto answer = c.request("GET", req.target, {{forwarded_header, self}}, o.forward_timeout);
    response r;
    r.status = answer.status;
    r.body = std::move(answer.body);
    auto type = answer.header("content-type");
    if (!type.empty()) r.content_type = type;
    auto retry = answer.header("retry-after");
    if (!retry.empty()) r.headers.emplace_back("Retry-After", retry);
    return r;
  } catch (const client_error& e) {
    return json_error(e.timed_out() ? 504 : 502,
                      "key '" + key + "' of store '" + store + "' is at " + *owner + ", which " +
                          (e.timed_out() ? "did not answer: " : "cannot be reached: ") + e.what());
  }
}

response key_route(backend& b, const server_options& o, const request& req) {
  const auto& store = req.params.at("store");
  const auto& key = req.params.at("key");
  if (auto f = forward_if_elsewhere(b, o, req, store, key)) return *f;
  auto self = b.self();
  auto value = b.key_json(store, key);
  if (!value) return json_error(404, "no key '" + key + "' in store '" + store + "' at " + self);
  return json("{\"store\":" + json_string(store) + ",\"key\":" + json_string(key) +
              ",\"value\":" + *value + ",\"served_by\":" + json_string(self) + "}");
}

response windows_route(backend& b, const server_options& o, const request& req) {
  const auto& store = req.params.at("store");
  const auto& key = req.params.at("key");
  auto from = time_param(req, "from", 0);
  auto to = time_param(req, "to", std::numeric_limits<std::int64_t>::max());
  if (from > to)
    throw std::invalid_argument("from (" + std::to_string(from) + ") is after to (" +
                                std::to_string(to) + ")");
  if (auto f = forward_if_elsewhere(b, o, req, store, key)) return *f;
  auto self = b.self();
  auto windows = b.window_json(store, key, from, to);
  return json("{\"store\":" + json_string(store) + ",\"key\":" + json_string(key) +
              ",\"from\":" + std::to_string(from) + ",\"to\":" + std::to_string(to) +
              ",\"windows\":" + windows + ",\"served_by\":" + json_string(self) + "}");
}

std::string optional_json(const std::optional<std::string>& s) {
  return s ? json_string(*s) : "null";
}

struct gathered {
  std::vector<detail::range_part> parts;
  std::vector<std::pair<std::string, std::string>> failed;  // instance, why
};

// Asks every other instance for its local part of the range, all at once.
void gather_others(backend& b, const server_options& o, const request& req, gathered& g) {
  const auto& store = req.params.at("store");
  auto self = b.self();
  std::string target = "/stores/" + detail::url_encode(store) + "?local=true";
  for (const char* bound : {"from", "to"}) {
    if (auto v = req.query_param(bound))
      target += std::string("&") + bound + "=" + detail::url_encode(*v);
  }
  std::vector<std::pair<std::string, std::future<client_response>>> asks;
  for (const auto& other : b.other_instances()) {
    if (other == self) continue;
    asks.emplace_back(
        other, std::async(std::launch::async, [&o, other, target, self] {
          client c(other);
          return c.request("GET", target, {{forwarded_header, self}}, o.forward_timeout);
        }));
  }
  for (auto& [instance, answer] : asks) {
    try {
      auto r = answer.get();
      if (r.status == 200)
        g.parts.push_back({instance, std::move(r.body)});
      else
        g.failed.emplace_back(instance, "answered " + std::to_string(r.status) + ": " + r.body);
    } catch (const std::exception& e) {
      g.failed.emplace_back(instance, e.what());
    }
  }
}

response range_route(backend& b, const server_options& o, const request& req) {
  const auto& store = req.params.at("store");
  auto from = req.query_param("from");
  auto to = req.query_param("to");
  auto self = b.self();
  gathered g;
  g.parts.push_back({self, "{\"entries\":" + b.range_json(store, from, to) + "}"});
  bool local_only = req.query_param("local") == "true" || forwarded(req);
  if (!local_only) gather_others(b, o, req, g);
  auto entries = detail::merge_ranges(g.parts, g.failed);
  std::string served_by, failed;
  for (const auto& p : g.parts) {
    bool bad = false;
    for (const auto& f : g.failed) bad = bad || f.first == p.instance;
    if (!bad) served_by += (served_by.empty() ? "" : ",") + json_string(p.instance);
  }
  for (const auto& [instance, why] : g.failed) {
    failed += (failed.empty() ? "" : ",");
    failed += "{\"instance\":" + json_string(instance) + ",\"error\":" + json_string(why) + "}";
  }
  auto r = json("{\"store\":" + json_string(store) + ",\"from\":" + optional_json(from) +
                ",\"to\":" + optional_json(to) + ",\"entries\":" + entries + ",\"served_by\":[" +
                served_by + "],\"failed\":[" + failed +
                "],\"complete\":" + (g.failed.empty() ? "true" : "false") + "}");
  if (!g.failed.empty()) r.headers.emplace_back("X-Rill-Partial", "true");
  return r;
}

response svg_route(backend& b, const server_options& o) {
  auto svg = detail::run_dot(o.dot_program, b.topology_dot(), o.dot_timeout);
  using outcome = detail::dot_result::outcome;
  switch (svg.what) {
    case outcome::ok: {
      response r;
      r.content_type = "image/svg+xml";
      r.body = std::move(svg.output);
      return r;
    }
    case outcome::missing:
      return json_error(503, svg.output);
    case outcome::timed_out:
      return json_error(504, svg.output);
    case outcome::failed:
      break;
  }
  return json_error(500, svg.output);
}

}  // namespace

void register_store_routes(server& s, backend& b, const server_options& options) {
  auto o = options;
  s.add_route("GET", "/health",
              [&b](const request&) { return json(b.state_json(), b.running() ? 200 : 503); });
  s.add_route("GET", "/topology", [&b](const request&) {
    response r;
    r.content_type = "text/vnd.graphviz";
    r.body = b.topology_dot();
    return r;
  });
  s.add_route("GET", "/topology.svg", [&b, o](const request&) { return svg_route(b, o); });
  s.add_route("GET", "/stores/{store}",
              [&b, o](const request& req) { return range_route(b, o, req); });
  s.add_route("GET", "/stores/{store}/keys/{key}",
              [&b, o](const request& req) { return key_route(b, o, req); });
  s.add_route("GET", "/stores/{store}/keys/{key}/windows",
              [&b, o](const request& req) { return windows_route(b, o, req); });
}

}  // namespace rill::http
