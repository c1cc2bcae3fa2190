// The app's metrics (include/rill/metrics.hpp) from its threads' counters and samples, and
// Prometheus' text exposition of them (GET /metrics). docs/operations.md has the table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rill/metrics.hpp>
#include <rill/streams_app.hpp>

namespace rill::runtime {

class stream_thread;

struct metric_sources {
  std::string client_id;
  app_state state = app_state::created;
  std::vector<const stream_thread*> live;     // running or dead, still the app's
  std::vector<const stream_thread*> retired;  // replaced: their totals still count
  std::uint64_t replaced = 0;
};

app_counters sum_counters(const metric_sources& s);
std::vector<metric> collect_metrics(const metric_sources& s);
// Text format 0.0.4: rill_<group>_<name>, snake_case, tags as labels (thread, task, client),
// counters ending _total, durations in seconds.
std::string prometheus_text(const std::vector<metric>& metrics);

}  // namespace rill::runtime
