// Clients for the HTTP load benchmarks (http_load.cpp, http_app_load.cpp): each on one
// kept-alive connection, timing every request; latencies and the first error.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "src/http/client.hpp"

namespace bench_http {

struct outcome {
  std::vector<double> latencies_us;  // of requests answered 200
  int errors = 0;
  std::string first_error;
  double seconds = 0;
  // The latency at quantile q of the sorted latencies.
  double percentile(double q) const {
    if (latencies_us.empty()) return 0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<std::size_t>(q * latencies_us.size()))];
  }
};

// `clients` clients at once, each sending `requests` GETs of target(i, client), merged.
inline outcome load(const std::string& address, int clients, int requests,
                    const std::function<std::string(int i, int client)>& target) {
  using clock = std::chrono::steady_clock;
  auto one = [&](int id) {
    outcome out;
    out.latencies_us.reserve(requests);
    rill::http::client c(address);
    for (int i = 0; i < requests; ++i) {
      const auto start = clock::now();
      try {
        auto r = c.request("GET", target(i, id), {}, std::chrono::seconds(10));
        if (r.status != 200) {
          if (out.errors++ == 0) out.first_error = std::to_string(r.status) + " " + r.body;
          continue;
        }
      } catch (const std::exception& e) {
        if (out.errors++ == 0) out.first_error = e.what();
        continue;
      }
      out.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(clock::now() - start).count());
    }
    return out;
  };
  const auto start = clock::now();
  std::vector<std::future<outcome>> futures;
  for (int i = 0; i < clients; ++i) futures.push_back(std::async(std::launch::async, one, i));
  outcome all;
  for (auto& f : futures) {
    auto o = f.get();
    all.latencies_us.insert(all.latencies_us.end(), o.latencies_us.begin(), o.latencies_us.end());
    if (all.errors == 0 && o.errors > 0) all.first_error = o.first_error;
    all.errors += o.errors;
  }
  all.seconds = std::chrono::duration<double>(clock::now() - start).count();
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  return all;
}

}  // namespace bench_http
