// W6: restoring a store from its changelog.
#include "e2e_embedded.hpp"

namespace bench {

struct restore_timer final : rill::restore_listener {
  std::atomic<std::int64_t> first{0};
  std::atomic<std::int64_t> last{0};
  void on_restore_start(const rill::task_id&, std::string_view, std::int64_t,
                        std::int64_t) override {
    std::int64_t zero = 0;
    first.compare_exchange_strong(zero, now_ns());
  }
  void on_restore_end(const rill::task_id&, std::string_view, std::uint64_t) override {
    last = now_ns();
  }
};

row w6(const params& p) {
  row r{"W6", fmt::format("restore a {}-entry store from its changelog", p.records)};
  r.target = ">= 0.75";
  r.label = "W6 restore 1M";
  r.baseline_name = "consume → RocksDB WriteBatch loop";
  auto t = fresh("w6", p.partitions);
  const std::string changelog = t.app + "-counts-changelog";
  create_topic(changelog, p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
    for (long i = 0; i < p.records; ++i) {
      const std::string key = "k" + std::to_string(i);
      const std::string v = be64(1 + i % 7);
      produce(prod.get(), changelog, RD_KAFKA_PARTITION_UA, key.data(), key.size(), v.data(),
              v.size());
    }
    flush(prod.get());
  }
  // Rill: the count app starts on an empty state directory and restores every task's store.
  {
    auto timer = std::make_shared<restore_timer>();
    rill::streams_app a(count_topology(t.input, t.rill_output), rill_config(p, t.app));
    a.set_restore_listener(timer);
    const double rss0 = reset_peak_rss();
    a.start();
    if (!a.wait_until_running(std::chrono::minutes(3))) r.rill.failure = "never ran";
    r.rill.seconds = static_cast<double>(timer->last - timer->first) / 1e9;
    r.rill.records_per_s = static_cast<double>(p.records) / r.rill.seconds;
    r.rill.peak_rss_mb = status_mb("VmHWM:");
    r.rill.rss_growth_mb = r.rill.peak_rss_mb - rss0;
    if (a.counters().restored != static_cast<std::uint64_t>(p.records))
      r.rill.failure = fmt::format("restored {} of {}", a.counters().restored, p.records);
    // Before the figure counts: the store holds exactly the changelog's compacted content.
    if (r.rill.failure.empty()) {
      w6_check check{p.records};
      for (const auto& [k, v] : a.key_value_store<std::string, std::int64_t>("counts").all())
        check.add(k, v);
      r.rill.failure = check.verdict();
    }
    a.close();
  }
  // Baseline: read every partition to its end, a WriteBatch per 10 000 records, WAL off.
  {
    const double rss0 = reset_peak_rss();
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap()},
                                       {"group.id", t.app + "-restorer"},
                                       {"enable.partition.eof", "false"},
                                       {"enable.auto.commit", "false"}});
    char err[512];
    rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    const std::string root = scratch_dir() + "/" + t.app + "-base";
    std::filesystem::create_directories(root);
    std::vector<std::unique_ptr<rocksdb::DB>> dbs;
    std::vector<rocksdb::WriteBatch> batches(static_cast<std::size_t>(p.partitions));
    std::vector<std::int64_t> ends;
    const std::int64_t start = now_ns();
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(p.partitions);
    long remaining = 0;
    for (int i = 0; i < p.partitions; ++i) {
      rocksdb::Options o;
      o.create_if_missing = true;
      rocksdb::DB* db = nullptr;
      if (auto s = rocksdb::DB::Open(o, fmt::format("{}/{}", root, i), &db); !s.ok())
        throw std::runtime_error(s.ToString());
      dbs.emplace_back(db);
      std::int64_t lo = 0, hi = 0;
      rd_kafka_query_watermark_offsets(c.get(), changelog.c_str(), i, &lo, &hi, 10'000);
      ends.push_back(hi);
      rd_kafka_topic_partition_list_add(list, changelog.c_str(), i)->offset = lo;
      if (hi > lo) ++remaining;
    }
    rd_kafka_assign(c.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
    std::vector<rd_kafka_message_t*> batch(1000);
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    long restored = 0;
    ssize_t n = 0;
    while (remaining > 0) {
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      for (ssize_t k = 0; k < n; ++k) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(k)];
        if (!m->err) {
          auto part = static_cast<std::size_t>(m->partition);
          batches[part].Put(rocksdb::Slice(static_cast<const char*>(m->key), m->key_len),
                            rocksdb::Slice(static_cast<const char*>(m->payload), m->len));
          ++restored;
          const bool at_end = m->offset + 1 >= ends[part];
          if (batches[part].Count() >= 10'000 || at_end) {
            dbs[part]->Write(wo, &batches[part]);
            batches[part].Clear();
          }
          if (at_end) --remaining;
        }
        rd_kafka_message_destroy(m);
      }
    }
    side s;
    s.seconds = static_cast<double>(now_ns() - start) / 1e9;
    s.records_per_s = static_cast<double>(restored) / s.seconds;
    s.peak_rss_mb = status_mb("VmHWM:");
    s.rss_growth_mb = s.peak_rss_mb - rss0;
    if (restored != p.records) s.failure = fmt::format("restored {} of {}", restored, p.records);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c.get());
    r.base = s;
  }
  return r;
}

}  // namespace bench
