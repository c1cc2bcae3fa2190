// What the end-to-end benchmarks share across broker modes: parameters, results, memory
// figures, the byte helpers the checks use, and the hand-written counting state that the
// W3 baselines keep in RocksDB (one WriteBatch per partition per commit, WAL off).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <rill/rill.hpp>

// W2's records: an order with line items, and its summary.
namespace bench {

struct line_item {
  std::string sku;
  std::int64_t quantity = 0;
  double price = 0;
};
struct order {
  std::string id;
  std::string customer;
  std::string status;
  std::vector<line_item> items;
  std::optional<std::string> coupon;
  double total = 0;
};
struct order_summary {
  std::string id;
  std::string customer;
  std::int64_t items = 0;
  double total = 0;
};

}  // namespace bench

BOOST_HANA_ADAPT_STRUCT(bench::line_item, sku, quantity, price);
BOOST_HANA_ADAPT_STRUCT(bench::order, id, customer, status, items, coupon, total);
BOOST_HANA_ADAPT_STRUCT(bench::order_summary, id, customer, items, total);

namespace bench {

using clock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
      .count();
}

// --- parameters and results ---------------------------------------------------------------

struct params {
  std::string workload = "W1";
  long records = 500'000;
  long keys = 1000;
  int value_size = 100;
  int partitions = 32;
  int threads = 1;
  std::string guarantee = "at_least_once";
  int commit_ms = 100;
  bool cache = false;
  bool latency = false;
  int repeat = 2;              // best of this many runs of each side, alternating
  int fetch_wait_ms = 100;     // consumers' fetch.wait.max.ms (Rill's default, docs/config.md)
  double rate_fraction = 0.5;  // latency: input rate as a fraction of the measured maximum
  bool rill = true;            // --rill off: the baseline alone (to profile it)
  bool trace = false;          // --trace on: Rill's thread per 100 ms (e2e_embedded.hpp)
  // --wake off: the hand-written consumers leave librdkafka's fetcher to wake up on its own
  // (up to 1 s after its queue was full), as Rill did before it woke it (RESULTS.md).
  bool wake = true;
  // --clock records (simulated cluster): time moves with the records processed, 1 ms per
  // 100, for the commit interval and the cluster alike, so that a run under callgrind (50
  // times slower) commits as often per record as a run at full speed, and instruction counts
  // compare the same work.
  bool clock_by_records = false;
  // A task with an empty input waits this long for it (max.task.idle.ms; 0: Rill's default),
  // so the joins (W8, W9) see both sides' records in time order.
  long max_task_idle_ms = 0;
  std::string metrics_level;        // metrics.recording.level, when set (W1-metrics)
  bool baseline = true;             // W4 and W5 compare differently
  std::string over = "W1";          // W5: the topology under both guarantees (W1 or W3)
  std::string broker = "embedded";  // or "sim": the simulated cluster (e2e_sim.cpp)
};

struct latencies {
  double p50 = 0, p99 = 0, p999 = 0;  // ms
  bool measured = false;
};

struct side {
  double seconds = 0;
  double records_per_s = 0;
  double peak_rss_mb = 0;  // the process's peak RSS during the run (broker included)
  double rss_growth_mb = 0;
  double cpu_s = 0;  // CPU-seconds of the whole process during the run (broker included)
  latencies latency;
  std::string failure;  // non-empty: the output was wrong; no figure
  int runs = 1;         // the median of this many runs (the simulated cluster's suite)
  double spread = 0;    // their (fastest - slowest) / median records/s
};

struct row {
  std::string id;
  std::string what;
  std::string label;  // short, for the chart
  std::string baseline_name = "librdkafka loop";
  side rill;
  std::optional<side> base;
  // The wire limit (W1, W3 on the embedded broker): a plain group consumer draining the
  // same input, against which Rill and the baseline are read as fractions.
  std::optional<side> wire;
  std::string target;
};

// --- CPU -----------------------------------------------------------------------------------

// User + system CPU-seconds the process has used so far, every thread included.
inline double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// --- memory -------------------------------------------------------------------------------

inline double status_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stod(line.substr(std::strlen(field))) / 1024.0;
  }
  return 0;
}
// Resets the peak RSS to the current RSS (Linux ≥ 4.0), returns the current RSS.
inline double reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
  return status_mb("VmRSS:");
}

inline std::string be64(std::int64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return s;
}
inline std::int64_t from_be64(const void* p) {
  const auto* b = static_cast<const unsigned char*>(p);
  std::int64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}

// W6's changelog holds one record per key, "k<i>" → 1 + i % 7: a restored store must hold
// exactly that, its compacted content. Fed every entry of the store; verdict() is "" when it
// does, else what differs.
struct w6_check {
  long records = 0;
  long seen = 0;
  long wrong = 0;
  std::string first_wrong;
  void add(const std::string& key, std::int64_t value) {
    ++seen;
    long i = -1;
    if (key.size() > 1 && key[0] == 'k') i = std::stol(key.substr(1));
    if (i >= 0 && i < records && value == 1 + i % 7) return;
    if (wrong++ == 0) first_wrong = key + " = " + std::to_string(value);
  }
  std::string verdict() const {
    if (seen == records && wrong == 0) return "";
    return "store differs from the compacted changelog: " + std::to_string(seen) + " of " +
           std::to_string(records) + " entries, " + std::to_string(wrong) + " wrong" +
           (first_wrong.empty() ? "" : " (" + first_wrong + ")");
  }
};

inline std::uint64_t fnv(const void* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

inline int run_counter() {
  static int n = 0;
  return ++n;
}

inline std::string scratch_dir() {
  auto d = std::filesystem::temp_directory_path() / fmt::format("rill-bench-{}", ::getpid());
  std::filesystem::create_directories(d);
  return d.string();
}

// --- W2's orders ---------------------------------------------------------------------------

inline order make_order(long i) {
  order o;
  o.id = fmt::format("order-{:08}", i);
  o.customer = fmt::format("customer-{}", i % 5000);
  o.status = i % 10 < 7 ? "paid" : "pending";
  for (int k = 0; k < 3; ++k)
    o.items.push_back({fmt::format("sku-{}", (i + k) % 997), 1 + (i + k) % 4, 9.99 + k});
  if (i % 3 == 0) o.coupon = "WINTER10";
  for (const auto& it : o.items) o.total += static_cast<double>(it.quantity) * it.price;
  return o;
}

inline order_summary summarize(const order& o) {
  std::int64_t n = 0;
  for (const auto& it : o.items) n += it.quantity;
  return {o.id, o.customer, n, o.total};
}

// --- counting state of the W3 baselines -----------------------------------------------------

// One RocksDB per partition (as Rill has one per task), WAL off; pending counts live in a map
// that reads go through first, and go down as one WriteBatch per partition per commit.
struct count_state {
  std::unique_ptr<rocksdb::DB> db;
  std::unordered_map<std::string, std::int64_t> pending;

  // The key's count after one more record.
  std::int64_t bump(std::string key) {
    auto it = pending.find(key);
    std::int64_t count = 0;
    if (it != pending.end()) {
      count = it->second;
    } else {
      std::string v;
      if (db->Get(rocksdb::ReadOptions(), key, &v).ok() && v.size() == 8)
        count = from_be64(v.data());
    }
    ++count;
    pending.insert_or_assign(std::move(key), count);
    return count;
  }
};

inline std::vector<std::unique_ptr<count_state>> open_count_states(const std::string& root,
                                                                   int partitions) {
  std::vector<std::unique_ptr<count_state>> parts;
  std::filesystem::create_directories(root);
  for (int i = 0; i < partitions; ++i) {
    auto st = std::make_unique<count_state>();
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    auto status = rocksdb::DB::Open(o, fmt::format("{}/{}", root, i), &db);
    if (!status.ok()) throw std::runtime_error(status.ToString());
    st->db.reset(db);
    parts.push_back(std::move(st));
  }
  return parts;
}

inline void write_pending_counts(std::vector<std::unique_ptr<count_state>>& parts) {
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  for (auto& st : parts) {
    if (st->pending.empty()) continue;
    rocksdb::WriteBatch batch;
    for (const auto& [k, c] : st->pending) batch.Put(k, be64(c));
    st->db->Write(wo, &batch);
    st->pending.clear();
  }
}

// --- input -----------------------------------------------------------------------------------

// The W1/W3 input: keys "k<i % keys>", values of value_size bytes (the first 8 the record's
// number), each handed to `emit`. Returns the checksum of every (key, value).
inline std::uint64_t generate_input(
    long records, long keys, int value_size,
    const std::function<void(const std::string& key, const std::string& value)>& emit) {
  std::string value(static_cast<std::size_t>(value_size), 'x');
  std::uint64_t sum = 0;
  for (long i = 0; i < records; ++i) {
    const std::string key = "k" + std::to_string(i % keys);
    const std::string n = be64(i);
    std::memcpy(value.data(), n.data(), std::min<std::size_t>(8, value.size()));
    sum += fnv(value.data(), value.size(), fnv(key.data(), key.size()));
    emit(key, value);
  }
  return sum;
}

// --- checks and best runs ------------------------------------------------------------------

// Keeps the fastest correct run; a wrong run marks the side wrong for good.
inline void keep_best(std::optional<side>& best, side s) {
  std::string failure = best ? best->failure : "";
  if (!s.failure.empty()) failure = s.failure;
  if (!best || s.records_per_s > best->records_per_s) best = s;
  best->failure = failure;
}

// The run with the median records/s (the lower middle one of an even count), its spread
// over all of them, and the failure of any.
inline side median_run(std::vector<side> runs) {
  if (runs.empty()) return {};
  std::string failure;
  for (const auto& r : runs)
    if (!r.failure.empty()) failure = r.failure;
  std::sort(runs.begin(), runs.end(),
            [](const side& a, const side& b) { return a.records_per_s < b.records_per_s; });
  side m = runs[(runs.size() - 1) / 2];
  m.runs = static_cast<int>(runs.size());
  if (m.records_per_s > 0)
    m.spread = (runs.back().records_per_s - runs.front().records_per_s) / m.records_per_s;
  m.failure = failure;
  return m;
}

// W1's check: every record copied, by count and checksum of (key, value).
inline std::string copy_verdict(long n, long records, std::uint64_t got, std::uint64_t sum) {
  if (n != records || got != sum)
    return fmt::format("output has {} records (want {}), checksum {}", n, records,
                       got == sum ? "equal" : "differs");
  return "";
}

// W3's check: the last count seen per key is the number of records of that key.
inline std::string count_verdict(const std::unordered_map<std::string, std::int64_t>& last,
                                 const params& p) {
  long wrong = 0;
  for (long k = 0; k < std::min(p.keys, p.records); ++k) {
    const long want = p.records / p.keys + (k < p.records % p.keys ? 1 : 0);
    auto it = last.find("k" + std::to_string(k));
    if (it == last.end() || it->second != want) ++wrong;
  }
  if (wrong != 0 || static_cast<long>(last.size()) != std::min(p.keys, p.records))
    return fmt::format("{} keys with a wrong final count, {} keys in the output", wrong,
                       last.size());
  return "";
}

// W2's check: one right summary per paid order and nothing else.
class summary_check {
 public:
  void add(rill::bytes_view value, const std::string& topic) {
    order_summary s = _serde.decode(&value, {topic, false, nullptr});
    const long i = std::stol(s.id.substr(6));
    if (i % 10 >= 7 || s.items != summarize(make_order(i)).items) ++_wrong;
    ++_n;
  }
  std::string verdict(long want) const {
    if (_n != want || _wrong != 0)
      return fmt::format("{} summaries (want {}), {} wrong", _n, want, _wrong);
    return "";
  }

 private:
  decltype(rill::default_serde<order_summary>()) _serde = rill::default_serde<order_summary>();
  long _n = 0;
  long _wrong = 0;
};

// --- W5 ------------------------------------------------------------------------------------

// W5: Rill under exactly-once against Rill under at-least-once, same topology (`run` gives
// W1's or W3's row for the parameters) and commit interval, at 100 and 1 000 ms. `sim`
// marks the rows of the simulated cluster.
inline void w5_rows(params q, bool counting, bool sim, const std::function<row(const params&)>& run,
                    std::vector<row>& rows) {
  q.baseline = false;
  for (int interval : {100, 1000}) {
    q.commit_ms = interval;
    q.guarantee = "at_least_once";
    row alos = run(q);
    q.guarantee = "exactly_once_v2";
    row eos = run(q);
    row r{"W5", fmt::format("{} under exactly_once_v2 vs at_least_once, commit {} ms{}",
                            counting ? "W3 (1000 keys, cache off)" : "W1", interval,
                            sim ? " [sim]" : "")};
    r.rill = eos.rill;
    r.base = alos.rill;
    r.baseline_name = "Rill at-least-once";
    r.target = interval == 100 ? ">= 0.90" : "";
    r.label =
        fmt::format("W5 {} EOS @{} ms{}", counting ? "W3" : "W1", interval, sim ? " (sim)" : "");
    rows.push_back(r);
  }
}

// --- the simulated-cluster mode (e2e_sim.cpp) -------------------------------------------------

// Runs one workload (W1, W2, W3, W5, W6, W7, W8, W9) with Rill and its baseline on the
// simulated cluster; appends its rows.
void sim_workload(const std::string& id, const params& p, std::vector<row>& rows);
// The whole suite on the simulated cluster.
void sim_suite(const params& p, std::vector<row>& rows);

}  // namespace bench
