// The built-in routes of rill::http::server over a backend (server_routes.cpp):
//   GET /health, /topology, /topology.svg, /stores/{store}, /stores/{store}/keys/{key},
//   /stores/{store}/keys/{key}/windows.
#pragma once

#include "src/http/backend.hpp"
#include "src/http/server.hpp"

namespace rill::http {

void register_store_routes(server& s, backend& b, const server_options& options);

}  // namespace rill::http
