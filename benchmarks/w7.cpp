// W7: a hopping-window count with emit final (w7_common.hpp), on the embedded broker.
#include "e2e_embedded.hpp"
#include "src/runtime/partitioner.hpp"
#include "w7_common.hpp"

namespace bench {

namespace {

std::int32_t partition_of(const std::string& key, int partitions) {
  return rill::runtime::default_partition(
      rill::bytes_view(reinterpret_cast<const std::byte*>(key.data()), key.size()), partitions);
}

std::string check_windows(const std::string& topic, const params& p) {
  std::vector<std::pair<std::string, std::int64_t>> emitted;
  read_all(topic, p.partitions, [&](const rd_kafka_message_t& m) {
    if (m.len != 8 || m.key == nullptr) return;
    emitted.emplace_back(std::string(static_cast<const char*>(m.key), m.key_len),
                         from_be64(m.payload));
  });
  return w7::check(emitted, p, [&](const std::string& k) { return partition_of(k, p.partitions); });
}

}  // namespace

row w7_row(const params& p) {
  row r{"W7", fmt::format("hopping-window count, 5 min / 1 min, emit final, {} keys, {} records "
                          "over {:.1f} h of event time",
                          p.keys, p.records, static_cast<double>(p.records) * 10 / 3.6e6)};
  r.target = "";
  r.label = "W7 hopping emit-final";
  r.baseline_name = "librdkafka loop + RocksDB, windows by hand";
  w7::base_time = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() /
                  w7::size_ms * w7::size_ms;
  auto t = fresh("w7", p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
    for (long i = 0; i < p.records; ++i) {
      const std::string k = w7::key_of(i, p.keys);
      const std::string v = be64(i);
      produce(prod.get(), t.input, partition_of(k, p.partitions), k.data(), k.size(), v.data(),
              v.size(), w7::time_of(i));
    }
    flush(prod.get());
  }
  best_of(
      p, t, r,
      [&](const topics_of_run& t) {
        side s = run_rill(w7::topology(t.input, t.rill_output), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_windows(t.rill_output, p);
        return s;
      },
      [&](const topics_of_run& t) {
        const std::string changelog = t.app + "-base-changelog";
        create_topic(changelog, p.partitions);
        std::vector<std::unique_ptr<w7::partition_state>> parts;
        loop_work work;
        work.on_start = [&parts, root = scratch_dir() + "/" + t.app, n = p.partitions] {
          parts = w7::open_states(root, n);
        };
        const std::string out = t.output;
        work.record = [&parts, out](rd_kafka_t* prod, const rd_kafka_message_t& m) {
          const std::string key(static_cast<const char*>(m.key), m.key_len);
          const std::int64_t ts = rd_kafka_message_timestamp(&m, nullptr);
          parts[static_cast<std::size_t>(m.partition)]->record(
              key, ts, [&](const std::string& wk, std::int64_t n) {
                const std::string v = be64(n);
                produce(prod, out, m.partition, wk.data(), wk.size(), v.data(), v.size(), ts);
              });
        };
        work.before_commit = [&parts, changelog](rd_kafka_t* prod) {
          for (std::size_t i = 0; i < parts.size(); ++i) {
            for (const auto& [wk, n] : parts[i]->pending) {
              const std::string v = be64(n);
              produce(prod, changelog, static_cast<std::int32_t>(i), wk.data(), wk.size(), v.data(),
                      v.size());
            }
          }
        };
        work.after_flush = [&parts](rd_kafka_t*) { w7::write_pending(parts); };
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_windows(t.output, p);
        return s;
      });
  return r;
}

}  // namespace bench
