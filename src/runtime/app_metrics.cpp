#include "src/runtime/app_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "src/runtime/client_metrics.hpp"
#include "src/runtime/stream_thread.hpp"

namespace rill::runtime {

app_counters sum_counters(const metric_sources& s) {
  app_counters c;
  auto add = [&](const stream_thread& t) {
    const auto& tc = t.counters();
    c.processed += tc.processed.load();
    c.skipped += tc.skipped.load();
    c.dead_lettered += tc.dead_lettered.load();
    c.commits += tc.commits.load();
    c.rebalances += tc.rebalances.load();
    c.rewinds += tc.rewinds.load();
    c.pauses += tc.pauses.load();
    c.restored += tc.restored.load();
    c.late += tc.late.load();
  };
  for (const auto* t : s.live) {
    add(*t);
    c.buffered += t->counters().buffered.load();
  }
  for (const auto* t : s.retired) add(*t);
  c.replaced_threads = s.replaced;
  return c;
}

namespace {

constexpr double ns_per_ms = 1e6;

using emitter = metric_emitter;

// Per second between the oldest and newest sample (the last ~10 s).
template <class F>
double rate(const thread_samples& s, F of) {
  if (s.history.size() < 2) return 0;
  const auto& a = s.history.front();
  const auto& b = s.history.back();
  const double seconds = static_cast<double>(b.at_ms - a.at_ms) / 1000.0;
  return seconds > 0 ? static_cast<double>(of(b) - of(a)) / seconds : 0;
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

void thread_metrics(const stream_thread& t, const thread_samples& s, std::vector<metric>& out) {
  const auto& c = t.counters();
  emitter e{out, "stream-thread-metrics", {{"thread-id", t.name()}}};
  const double processed = static_cast<double>(c.processed.load());
  using T = thread_samples::totals;
  e.counter("process-total", processed, "Records processed");
  e.gauge("process-rate", rate(s, [](const T& x) { return x.processed; }),
          "Records processed per second");
  e.gauge("process-latency-avg", ratio(c.process_ns.load() / ns_per_ms, processed),
          "Average time to process a record, ms");
  e.gauge("process-latency-max", c.process_max_ns.load() / ns_per_ms,
          "Highest per-record time of a processing pass, ms");
  const double polls = static_cast<double>(c.polls.load());
  e.counter("poll-total", polls, "Consumer polls");
  e.gauge("poll-rate", rate(s, [](const T& x) { return x.polls; }), "Consumer polls per second");
  e.gauge("poll-records-avg", ratio(static_cast<double>(c.polled_records.load()), polls),
          "Average records a poll returned");
  const double commits = static_cast<double>(c.commits.load());
  e.counter("commit-total", commits, "Commits");
  e.gauge("commit-rate", rate(s, [](const T& x) { return x.commits; }), "Commits per second");
  e.gauge("commit-latency-avg", ratio(c.commit_ns.load() / ns_per_ms, commits),
          "Average commit time, ms");
  e.gauge("commit-latency-max", c.commit_max_ns.load() / ns_per_ms, "Longest commit, ms");
  e.counter("punctuate-total", static_cast<double>(c.punctuations.load()), "Punctuations");
  e.gauge("punctuate-rate", rate(s, [](const T& x) { return x.punctuations; }),
          "Punctuations per second");
  e.counter("blocked-time-ns-total", static_cast<double>(c.blocked_ns.load()),
            "Time spent waiting in the consumer's poll, ns");
  e.gauge("thread-start-time", static_cast<double>(c.start_ms.load()),
          "When the thread started, ms since the epoch");
}

void task_metrics(const stream_thread& t, const thread_samples& s, std::vector<metric>& out) {
  if (s.history.empty()) return;
  const auto& now = s.history.back();
  const auto& then = s.history.front();
  const double seconds = static_cast<double>(now.at_ms - then.at_ms) / 1000.0;
  for (const auto& task : now.tasks) {
    const task_counters* before = nullptr;
    for (const auto& b : then.tasks)
      if (b.id == task.id) before = &b.counters;
    auto per_second = [&](auto of) {
      return before != nullptr && seconds > 0
                 ? static_cast<double>(of(task.counters) - of(*before)) / seconds
                 : 0.0;
    };
    const task_counters& c = task.counters;
    emitter e{
        out, "stream-task-metrics", {{"thread-id", t.name()}, {"task-id", task.id.to_string()}}};
    e.counter("process-total", static_cast<double>(c.processed), "Records the task processed");
    e.gauge("process-rate", per_second([](const task_counters& x) { return x.processed; }),
            "Records the task processed per second");
    const auto dropped = [](const task_counters& x) { return x.skipped + x.late; };
    e.counter("dropped-records-total", static_cast<double>(dropped(c)),
              "Records dropped: skipped by a handler, dead-lettered, or too late for a window");
    e.gauge("dropped-records-rate", per_second(dropped), "Records dropped per second");
    e.counter("enforced-processing-total", static_cast<double>(c.enforced),
              "Passes processed with an input empty, past max.task.idle.ms");
    e.gauge("enforced-processing-rate",
            per_second([](const task_counters& x) { return x.enforced; }),
            "Enforced processing passes per second");
    e.gauge("record-lateness-avg",
            ratio(static_cast<double>(c.lateness_sum), static_cast<double>(c.processed)),
            "Average of stream time minus record timestamp (0 for records not behind), ms");
    e.gauge("record-lateness-max", static_cast<double>(c.lateness_max),
            "Highest stream time minus record timestamp, ms");
    e.gauge("active-buffer-count", static_cast<double>(task.buffered),
            "Records waiting in the task's input queues");
    e.gauge("restore-remaining-records-total", static_cast<double>(task.restore_remaining),
            "Changelog records the task has still to restore before it runs");
  }
}

// A latency over the samples' window: rate and average between the oldest and newest sample,
// maximum of the newest samples' recent maximums. `of` finds the figure in a task snapshot
// (nullptr: not there).
template <class F>
void latency_metrics(emitter& e, const thread_samples& s, const task_id& task, F of,
                     const std::string& prefix, double unit_ms, bool with_rate, const char* what) {
  using snap = task_manager::task_snapshot;
  auto find = [&](const thread_samples::totals& t) -> const latency_stat* {
    for (const snap& x : t.tasks)
      if (x.id == task) return of(x);
    return nullptr;
  };
  const latency_stat* now = find(s.history.back());
  const latency_stat* then = s.history.size() > 1 ? find(s.history.front()) : nullptr;
  if (now == nullptr) return;
  const latency_stat zero;
  if (then == nullptr) then = &zero;
  const double count = static_cast<double>(now->count - then->count);
  const double seconds =
      static_cast<double>(s.history.back().at_ms - s.history.front().at_ms) / 1e3;
  std::int64_t max = 0;
  for (std::size_t i = 1; i < s.history.size(); ++i)
    if (const latency_stat* l = find(s.history[i])) max = std::max(max, l->recent_max);
  const std::string help = std::string(what);
  if (with_rate) {
    e.out.push_back({prefix + "-rate", e.group, e.tags, seconds > 0 ? count / seconds : 0,
                     metric_kind::gauge, help + " per second"});
  }
  const double avg = count > 0 ? static_cast<double>(now->sum - then->sum) / count * unit_ms
                               : std::numeric_limits<double>::quiet_NaN();
  e.out.push_back({prefix + "-latency-avg", e.group, e.tags, avg, metric_kind::gauge,
                   help + ": average latency over the last ~10 s, ms (NaN with none)"});
  e.out.push_back({prefix + "-latency-max", e.group, e.tags, static_cast<double>(max) * unit_ms,
                   metric_kind::gauge, help + ": highest latency over the last ~10 s, ms"});
}

// End-to-end latency at the sinks (per topic) and the stores' figures, per task.
void sink_and_store_metrics(const stream_thread& t, const thread_samples& s,
                            std::vector<metric>& out) {
  if (s.history.empty()) return;
  using snap = task_manager::task_snapshot;
  constexpr double ns = 1e-6;
  for (const snap& task : s.history.back().tasks) {
    const std::string id = task.id.to_string();
    for (const sink_stats& sink : task.sinks) {
      emitter e{out,
                "stream-processor-node-metrics",
                {{"thread-id", t.name()}, {"task-id", id}, {"topic", sink.topic}}};
      latency_metrics(
          e, s, task.id,
          [&](const snap& x) -> const latency_stat* {
            for (const auto& k : x.sinks)
              if (k.topic == sink.topic) return &k.e2e;
            return nullptr;
          },
          "record-e2e", 1.0, false, "Records sent to the topic, wall clock minus timestamp");
    }
    for (const store_stats& store : task.stores) {
      emitter e{out,
                "stream-state-metrics",
                {{"thread-id", t.name()}, {"task-id", id}, {"store", store.store}}};
      auto in = [&](latency_stat store_stats::*field) {
        return [&store, field](const snap& x) -> const latency_stat* {
          for (const auto& k : x.stores)
            if (k.store == store.store) return &(k.*field);
          return nullptr;
        };
      };
      latency_metrics(e, s, task.id, in(&store_stats::e2e), "record-e2e", 1.0, false,
                      "Store writes, wall clock minus the writing record's timestamp");
      if (!store.timed) continue;  // info: only the end-to-end latency
      latency_metrics(e, s, task.id, in(&store_stats::put), "put", ns, true, "Puts and deletes");
      latency_metrics(e, s, task.id, in(&store_stats::get), "get", ns, true, "Gets");
      latency_metrics(e, s, task.id, in(&store_stats::range), "range", ns, true,
                      "Range and prefix scans (until the iterator closes)");
      latency_metrics(e, s, task.id, in(&store_stats::flush), "flush", ns, true,
                      "Flushes at commit (cache, then the task's write batch)");
    }
  }
}

}  // namespace

std::vector<metric> collect_metrics(const metric_sources& s) {
  std::vector<metric> out;
  const app_counters c = sum_counters(s);
  emitter e{out, "stream-metrics", {{"client-id", s.client_id}}};
  e.gauge("state", 1, "The app's state (the label says which)");
  out.back().tags["state"] = std::string(to_string(s.state));
  std::size_t alive = 0;
  for (const auto* t : s.live) alive += t->finished() ? 0 : 1;
  e.gauge("alive-stream-threads", static_cast<double>(alive), "Stream threads running");
  e.counter("failed-stream-threads", static_cast<double>(s.replaced),
            "Stream threads that died and were replaced");
  e.counter("rebalances-total", static_cast<double>(c.rebalances), "Partition assignments");
  e.counter("restored-records-total", static_cast<double>(c.restored),
            "Changelog records restored into stores");
  e.counter("dead-lettered-records-total", static_cast<double>(c.dead_lettered),
            "Records sent to the dead-letter topic");
  for (const auto* t : s.live) {
    const thread_samples samples = t->samples();
    thread_metrics(*t, samples, out);
    task_metrics(*t, samples, out);
    sink_and_store_metrics(*t, samples, out);
    append_client_metrics(samples.consumer, samples.producer, out);
  }
  return out;
}

namespace {

std::string snake(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string label_name(const std::string& tag) {
  if (tag == "thread-id") return "thread";
  if (tag == "task-id") return "task";
  if (tag == "client-id") return "client";
  if (tag == "node-id") return "node";
  return snake(tag);
}

std::string escaped(const std::string& v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out += '\\';
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out += ch;
  }
  return out;
}

// The family name and the factor to Prometheus' base units for a metric.
std::pair<std::string, double> family_of(const metric& m) {
  std::string group = m.group;
  if (group.ends_with("-metrics")) group.resize(group.size() - 8);
  std::string name = m.name;
  double factor = 1;
  if (name == "blocked-time-ns-total")
    return {"rill_" + snake(group) + "_blocked_time_seconds", 1e-9};
  if (name == "thread-start-time") return {"rill_" + snake(group) + "_start_time_seconds", 1e-3};
  if (name.ends_with("-total")) name.resize(name.size() - 6);
  if (name.find("latency") != std::string::npos || name.find("lateness") != std::string::npos) {
    name += "-seconds";
    factor = 1e-3;
  }
  return {"rill_" + snake(group) + "_" + snake(name), factor};
}

}  // namespace

std::string prometheus_text(const std::vector<metric>& metrics) {
  struct family {
    std::string help;
    metric_kind kind;
    std::vector<std::string> samples;
  };
  std::map<std::string, family> families;
  for (const auto& m : metrics) {
    auto [name, factor] = family_of(m);
    if (m.kind == metric_kind::counter) name += "_total";  // 0.0.4: the family is named so too
    auto& f = families.try_emplace(name, family{m.description, m.kind, {}}).first->second;
    std::string labels;
    for (const auto& [k, v] : m.tags)
      labels += (labels.empty() ? "" : ",") + label_name(k) + "=\"" + escaped(v) + "\"";
    std::string line = name;
    if (!labels.empty()) line += "{" + labels + "}";
    const double v = m.value * factor;
    f.samples.push_back(line + (std::isnan(v) ? std::string(" NaN") : fmt::format(" {}", v)));
  }
  std::string out;
  for (const auto& [name, f] : families) {
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (f.kind == metric_kind::counter ? " counter\n" : " gauge\n");
    for (const auto& s : f.samples) out += s + "\n";
  }
  return out;
}

}  // namespace rill::runtime
