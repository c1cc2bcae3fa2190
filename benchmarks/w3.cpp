// W3: a keyed count on RocksDB with a changelog.
#include "e2e_embedded.hpp"

namespace bench {

// The expected final count per key.
std::string check_counts(const std::string& topic, int partitions, const params& p) {
  std::unordered_map<std::string, std::int64_t> last;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    if (m.len != 8) return;
    last[std::string(static_cast<const char*>(m.key), m.key_len)] = from_be64(m.payload);
  });
  return count_verdict(last, p);
}

rill::topology count_topology(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, rill::bytes_view>(in)  // the count reads no value: borrowed, as W1
      .group_by_key()
      .count(rill::named("counts"))
      .to_stream()
      .to(out);
  return b.build();
}

// The counting state of count_state (e2e_common.hpp); every update (cache off) or every dirty
// key per commit (cache on) goes to the changelog and the output.
loop_work count_work(const params& p, const topics_of_run& t,
                     std::vector<std::unique_ptr<count_state>>& parts) {
  const std::string changelog = t.app + "-base-changelog";
  create_topic(changelog, p.partitions);
  const bool cache = p.cache;
  const std::string out = t.output;
  loop_work w;
  // Timed, as Rill's tasks open their stores after the assignment too.
  w.on_start = [&parts, root = scratch_dir() + "/" + t.app, n = p.partitions] {
    parts = open_count_states(root, n);
  };
  auto emit = [changelog, out](rd_kafka_t* prod, std::int32_t part, const std::string& key,
                               std::int64_t count) {
    const std::string v = be64(count);
    produce(prod, changelog, part, key.data(), key.size(), v.data(), v.size());
    produce(prod, out, part, key.data(), key.size(), v.data(), v.size());
  };
  w.record = [&parts, cache, emit](rd_kafka_t* prod, const rd_kafka_message_t& m) {
    count_state& st = *parts[static_cast<std::size_t>(m.partition)];
    std::string key(static_cast<const char*>(m.key), m.key_len);
    const std::int64_t count = st.bump(key);
    if (!cache) emit(prod, m.partition, key, count);
  };
  w.before_commit = [&parts, cache, emit](rd_kafka_t* prod) {
    if (!cache) return;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      for (const auto& [k, c] : parts[i]->pending) emit(prod, static_cast<std::int32_t>(i), k, c);
    }
  };
  w.after_flush = [&parts](rd_kafka_t*) { write_pending_counts(parts); };
  return w;
}

row w3(const params& p, const std::string& id) {
  row r{id, fmt::format("count by key on RocksDB + changelog, {} keys, cache {}, {} records, {}{}",
                        p.keys, p.cache ? "on" : "off", p.records, p.guarantee,
                        p.guarantee == "at_least_once" ? "" : fmt::format(" @{} ms", p.commit_ms))};
  r.target = p.cache ? "" : ">= 0.70";
  r.label = fmt::format("W3 {} keys, cache {}", p.keys >= 1'000'000 ? "1M" : std::to_string(p.keys),
                        p.cache ? "on" : "off");
  auto t = fresh("w3", p.partitions);
  preload_bytes(params{p.workload, p.records, p.keys, 8, p.partitions}, t.input);
  best_of(
      p, t, r,
      [&](const topics_of_run& t) {
        side s = run_rill(count_topology(t.input, t.rill_output), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_counts(t.rill_output, p.partitions, p);
        return s;
      },
      [&](const topics_of_run& t) {
        std::vector<std::unique_ptr<count_state>> parts;
        loop_work work = count_work(p, t, parts);
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_counts(t.output, p.partitions, p);
        return s;
      },
      true);
  r.baseline_name = "librdkafka loop + RocksDB WriteBatch";
  return r;
}

}  // namespace bench
