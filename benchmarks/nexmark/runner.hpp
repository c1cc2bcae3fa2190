// Running the Nexmark queries on a broker and checking what they wrote: the simulated cluster
// (sim_run.cpp) and the embedded broker (embedded_run.cpp) share these parameters and results.
#pragma once

#include <string>
#include <vector>

#include "generator.hpp"
#include "queries.hpp"

namespace nexmark {

struct run_params {
  generator_config gen;
  int partitions = 32;  // as the end-to-end suite: no partition past the mock's ~5 MiB
  std::string guarantee = "at_least_once";
  int commit_ms = 100;
  bool cache = true;
  // Smoke mode: every query in one app (one group join), outputs checked, nothing timed.
  bool smoke = false;
};

struct run_result {
  std::string query;  // one id, or "all" in smoke mode
  long events = 0;
  double seconds = 0;
  double cpu_s = 0;          // CPU-seconds of the whole process during the run
  double peak_rss_mb = 0;    // the process's peak RSS during the run
  double rss_growth_mb = 0;  // ... minus its RSS before the run
  long outputs = 0;          // records the query wrote
  std::string per_query;     // smoke mode: records written per query
  std::string failure;       // non-empty: the output was wrong or the run stalled; no figure

  double events_per_s() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double events_per_cpu_s() const { return cpu_s > 0 ? static_cast<double>(events) / cpu_s : 0; }
};

// Each query of `ids` in an app of its own (or all in one in smoke mode) on a fresh
// simulated cluster; the output checked against the reference.
std::vector<run_result> run_sim(const std::vector<std::string>& ids, const run_params& p);
// The same on the embedded broker (one input topic for all the runs).
std::vector<run_result> run_embedded(const std::vector<std::string>& ids, const run_params& p);

// Checks each query's output records against the reference; returns the failures, one line
// each, prefixed by the query id.
std::string check_outputs(const std::vector<std::string>& ids,
                          const std::vector<std::vector<output_record>>& outputs,
                          const generator_config& c, int partitions);

// The grace q8's join needs so that no record of this input is late (queries.cpp).
query_options options_for(const generator_config& c);

// --- memory and CPU (as benchmarks/e2e_common.hpp measures them) ---------------------------
double process_cpu_s();
double reset_peak_rss();  // resets the peak to the current RSS; returns the current RSS (MB)
double peak_rss_mb();

}  // namespace nexmark
