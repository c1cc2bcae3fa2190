// The HTTP endpoint of a running app under load while it processes: a word count on the
// embedded broker (application.server set) fed lines at a steady rate, then 8 clients x
// 2 000 key reads (GET /stores/word-counts/keys/w<i>, each client on one kept-alive
// connection). Prints p50/p99 latency and requests/s, and beside them the app's processing
// rate and its longest stall (the longest time its processed count stood still while input
// waited) with no HTTP load (the baseline) and under the load.
//
//   bench_http_app_load [--clients 8] [--requests 2000] [--lines-per-s 5000]
//                       [--max-stall-ms 1000]
//
// Exit status 1 if any request failed or did not answer 200, or if processing stalled for
// longer than --max-stall-ms under the load (ctest runs it so, http_app_load, with 500
// requests a client and allowing 3 s: a sanitizer build beside other tests on two cores).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <rill/rill.hpp>

#include "examples/word_count/word_count.hpp"
#include "http_clients.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int vocabulary = 1000;

// Samples the app's processed count while `busy` runs: records per second and the longest
// time the count stood still.
struct progress {
  double records_per_s = 0;
  double longest_stall_ms = 0;
};

template <class F>
progress watch(rill::streams_app& app, F busy) {
  std::atomic<bool> done{false};
  auto work = std::async(std::launch::async, [&] {
    busy();
    done = true;
  });
  const auto start = clock_type::now();
  const std::uint64_t first = app.counters().processed;
  std::uint64_t last = first;
  auto last_change = start;
  double longest = 0;
  while (!done) {
    std::this_thread::sleep_for(5ms);
    const std::uint64_t now = app.counters().processed;
    const auto t = clock_type::now();
    if (now != last) {
      last = now;
      last_change = t;
    }
    longest = std::max(longest, std::chrono::duration<double, std::milli>(t - last_change).count());
  }
  work.get();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  return {static_cast<double>(last - first) / seconds, longest};
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 8, requests = 2000, lines_per_s = 5000, max_stall_ms = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) {
      clients = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--requests")) {
      requests = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--lines-per-s")) {
      lines_per_s = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--max-stall-ms")) {
      max_stall_ms = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--clients N] [--requests M] [--lines-per-s L] [--max-stall-ms S]\n",
                   argv[0]);
      return 2;
    }
  }
  const auto stamp = std::to_string(clock_type::now().time_since_epoch().count());
  const std::string in = "load-text-" + stamp, out = "load-counts-" + stamp;
  const auto state = std::filesystem::temp_directory_path() / ("rill-http-load-" + stamp);
  rill::create_topic("embedded", in, 2);
  rill::create_topic("embedded", out, 2);
  rill::streams_app app(word_count::topology(in, out),
                        rill::config{{"application.id", "load-" + stamp},
                                     {"bootstrap.servers", "embedded"},
                                     {"application.server", "127.0.0.1:0"},
                                     {"state.dir", state.string()},
                                     {"log.level", "warn"}});
  app.start();
  if (!app.wait_until_running(60s)) {
    std::fprintf(stderr, "the app never ran\n");
    return 1;
  }
  // Every word once, so that every key read finds its count; then a steady feed.
  rill::topic_writer<std::string, std::string> writer("embedded");
  for (int w = 0; w < vocabulary; ++w) writer.send(in, std::to_string(w), "w" + std::to_string(w));
  writer.flush();
  auto counts = app.key_value_store<std::string, std::int64_t>("word-counts");
  const auto deadline = clock_type::now() + 60s;
  auto counted_all = [&] {
    try {
      return counts.all().size() == static_cast<std::size_t>(vocabulary);
    } catch (const rill::store_unavailable_error&) {
      return false;
    }
  };
  while (!counted_all() && clock_type::now() < deadline) std::this_thread::sleep_for(20ms);
  if (!counted_all()) {
    std::size_t have = 0;
    try {
      have = counts.all().size();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
    std::fprintf(stderr, "the app never counted the %d words (%zu counted, %llu processed)\n",
                 vocabulary, have, static_cast<unsigned long long>(app.counters().processed));
    return 1;
  }
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    rill::topic_writer<std::string, std::string> w("embedded");
    std::uint64_t n = 0;
    auto next = clock_type::now();
    while (feeding) {
      for (int i = 0; i < lines_per_s / 100; ++i, ++n)
        w.send(
            in, std::to_string(n),
            "w" + std::to_string(n % vocabulary) + " w" + std::to_string((n * 7 + 3) % vocabulary));
      next += 10ms;
      std::this_thread::sleep_until(next);
    }
    w.flush();
  });

  const std::string address = app.advertised_server();
  const progress idle = watch(app, [] { std::this_thread::sleep_for(3s); });
  bench_http::outcome o;
  const progress loaded = watch(app, [&] {
    o = bench_http::load(address, clients, requests, [](int i, int id) {
      return "/stores/word-counts/keys/w" + std::to_string((i * 8 + id) % vocabulary);
    });
  });
  feeding = false;
  feeder.join();
  std::printf(
      "GET key of a processing app  %d clients x %d: p50 %8.1f us  p99 %8.1f us  %9.0f "
      "req/s  errors %d\n",
      clients, requests, o.percentile(0.50), o.percentile(0.99),
      static_cast<double>(o.latencies_us.size()) / o.seconds, o.errors);
  if (o.errors > 0) std::printf("  first error: %s\n", o.first_error.c_str());
  std::printf("processing, no HTTP load (baseline): %8.0f records/s, longest stall %6.1f ms\n",
              idle.records_per_s, idle.longest_stall_ms);
  std::printf(
      "processing, under the HTTP load:     %8.0f records/s, longest stall %6.1f ms "
      "(rate %.2f of baseline)\n",
      loaded.records_per_s, loaded.longest_stall_ms,
      idle.records_per_s > 0 ? loaded.records_per_s / idle.records_per_s : 0.0);
  app.close(60s);
  std::filesystem::remove_all(state);
  const bool stalled = loaded.longest_stall_ms > max_stall_ms;
  if (stalled) std::printf("processing STALLED under the HTTP load\n");
  return o.errors == 0 && !stalled ? 0 : 1;
}
