#include "src/runtime/http_backend.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace rill::runtime {

bool app_backend::running() {
  return _view.state() == app_state::running;
}

std::string app_backend::state_json() {
  return fmt::format(R"({{"state":"{}","threads":{},"server":{}}})", to_string(_view.state()),
                     _view.live_threads(), http::json_string(_self));
}

void app_backend::each_reader(const std::string& store,
                              const std::function<void(detail::json_reader&)>& f) {
  _view.stores->for_each(store, [&](state_store& s) {
    detail::json_reader* r = s.json();
    if (r == nullptr) {
      throw invalid_store_error(
          fmt::format("store '{}' cannot be read over HTTP (a store of its own type)", store));
    }
    f(*r);
  });
}

std::optional<std::string> app_backend::key_json(const std::string& store, const std::string& key) {
  std::optional<std::string> found;
  each_reader(store, [&](detail::json_reader& r) {
    if (!found) found = r.get_json(key);
  });
  return found;
}

namespace {

std::string json_array(detail::json_reader::entries& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "[";
  for (const auto& e : entries) {
    if (out.size() > 1) out += ',';
    out += e.second;
  }
  return out + "]";
}

}  // namespace

std::string app_backend::range_json(const std::string& store,
                                    const std::optional<std::string>& from,
                                    const std::optional<std::string>& to) {
  detail::json_reader::entries entries;
  each_reader(store, [&](detail::json_reader& r) {
    r.range_json(from ? std::optional<std::string_view>(*from) : std::nullopt,
                 to ? std::optional<std::string_view>(*to) : std::nullopt, entries);
  });
  return json_array(entries);
}

std::string app_backend::window_json(const std::string& store, const std::string& key,
                                     std::int64_t from_ms, std::int64_t to_ms) {
  if (from_ms > to_ms)
    throw std::invalid_argument(fmt::format("windows of store '{}': from > to", store));
  detail::json_reader::entries entries;
  each_reader(store, [&](detail::json_reader& r) { r.windows_json(key, from_ms, to_ms, entries); });
  return json_array(entries);
}

std::optional<std::string> app_backend::owner_of(const std::string& store, const std::string& key) {
  const detail::compiled_topology& topo = *_view.topology;
  if (topo.global(store) != nullptr) return std::nullopt;  // every instance has it all
  const detail::compiled_store* st = topo.store(store);
  if (st == nullptr) throw invalid_store_error(fmt::format("no store named '{}'", store));
  if (!st->spec.key_from_text) {
    throw invalid_store_error(
        fmt::format("store '{}' cannot be read over HTTP (no key serde known)", store));
  }
  const bytes k = st->spec.key_from_text(key);  // std::invalid_argument: 400
  const instance_directory* directory = _directory.load();
  if (directory == nullptr) throw store_unavailable_error("the app is starting; try again");
  const key_metadata m =
      key_owner(directory, topo, _view.application_id, _view.partition_counts(), store, k);
  if (m.server() == _self) return std::nullopt;
  return m.server();
}

std::vector<std::string> app_backend::other_instances() {
  std::vector<std::string> out;
  const instance_directory* directory = _directory.load();
  if (directory == nullptr) return out;
  for (const auto& [server, held] : directory->instances())
    if (server != _self) out.push_back(server);
  return out;
}

app_http start_http(const std::string& server, app_view view) {
  const auto colon = server.rfind(':');
  http::server_options o;
  o.host = server.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']')
    o.host = o.host.substr(1, o.host.size() - 2);
  o.port = static_cast<std::uint16_t>(std::stoi(server.substr(colon + 1)));
  app_http h;
  auto pages = std::move(view.pages);
  auto metrics = std::move(view.metrics);
  h.backend = std::make_unique<app_backend>(std::move(view));
  h.server = std::make_unique<http::server>(*h.backend, o);  // std::system_error names host:port
  if (metrics) {
    h.server->add_route("GET", "/metrics", [metrics = std::move(metrics)](const http::request&) {
      return http::response{200, "text/plain; version=0.0.4; charset=utf-8", metrics(), {}};
    });
  }
  for (auto& [path, page] : pages) {
    h.server->add_route("GET", path, [page = std::move(page)](const http::request& req) {
      http_page p = page(req.query);
      return http::response{p.status, std::move(p.content_type), std::move(p.body), {}};
    });
  }
  h.advertised = server.substr(0, colon) + ":" + std::to_string(h.server->port());
  h.backend->set_self(h.advertised);
  return h;
}

}  // namespace rill::runtime
