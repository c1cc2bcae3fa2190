// W1's latency at a fixed rate.
#include "e2e_embedded.hpp"

namespace bench {

// Produces `rate` records/s for `seconds` into t.input (value: send time in ns), reads
// `output` and records each result's delay after its send.
latencies measure_latency(const std::string& input, const std::string& output, int partitions,
                          double rate, double seconds, const std::function<void()>& wait_ready) {
  wait_ready();
  std::vector<std::int64_t> delays;
  const long total = static_cast<long>(rate * seconds);
  delays.reserve(static_cast<std::size_t>(total));
  std::atomic<long> received{0};
  std::atomic<bool> reading{true};
  std::thread reader([&] {
    rd_kafka_conf_t* conf = make_conf({{"bootstrap.servers", bootstrap()},
                                       {"group.id", output + "-latency"},
                                       {"enable.partition.eof", "false"},
                                       {"fetch.wait.max.ms", "5"},
                                       {"enable.auto.commit", "false"}});
    char err[512];
    rk_ptr c(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; ++i)
      rd_kafka_topic_partition_list_add(list, output.c_str(), i)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(c.get());
    std::vector<rd_kafka_message_t*> batch(1000);
    ssize_t n = 0;
    while (reading.load() && received.load() < total) {
      n = rd_kafka_consume_batch_queue(q, n > 0 ? 0 : 5, batch.data(), batch.size());
      const std::int64_t now = now_ns();
      for (ssize_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = batch[static_cast<std::size_t>(i)];
        if (!m->err && m->len >= 8) {
          delays.push_back(now - from_be64(m->payload));
          ++received;
        }
        rd_kafka_message_destroy(m);
      }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c.get());
  });
  {
    rk_ptr prod = make_producer();
    std::string value(100, 'x');
    const std::int64_t start = now_ns();
    for (long i = 0; i < total; ++i) {
      const std::int64_t due =
          start + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / rate);
      while (now_ns() < due) {
        rd_kafka_poll(prod.get(), 0);
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // pacing the input rate
      }
      const std::string key = "k" + std::to_string(i % 1000);
      const std::string ns = be64(now_ns());
      std::memcpy(value.data(), ns.data(), 8);
      produce(prod.get(), input, RD_KAFKA_PARTITION_UA, key.data(), key.size(), value.data(),
              value.size());
    }
    flush(prod.get());
  }
  const auto deadline = clock::now() + std::chrono::seconds(30);
  while (clock::now() < deadline && received.load() < total)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waiting for the reader
  reading = false;
  reader.join();
  latencies l;
  if (static_cast<long>(delays.size()) < total) return l;
  std::vector<std::int64_t> kept(delays.begin() + static_cast<long>(delays.size() / 10),
                                 delays.end());
  std::sort(kept.begin(), kept.end());
  auto pct = [&](double q) {
    return static_cast<double>(
               kept[static_cast<std::size_t>(q * static_cast<double>(kept.size() - 1))]) /
           1e6;
  };
  l.p50 = pct(0.5);
  l.p99 = pct(0.99);
  l.p999 = pct(0.999);
  l.measured = true;
  return l;
}

// The mock broker answers a fetch that found nothing only after fetch.wait.max.ms (500 ms
// by default), even when records arrive meanwhile, which would put a 250 ms floor under
// every figure; all consumers of the latency runs wait at most 10 ms.
void w1_latency(const params& given, row& r) {
  params p = given;
  p.fetch_wait_ms = 10;
  const double rate =
      p.rate_fraction * std::min(r.rill.records_per_s, r.base ? r.base->records_per_s : 1e12);
  const double seconds = 4;
  {
    auto t = fresh("w1-lat", p.partitions);
    rill::streams_builder b;
    b.stream<rill::bytes, rill::bytes>(t.input).to(t.rill_output);
    rill::streams_app a(b.build(), rill_config(p, t.app));
    a.start();
    r.rill.latency = measure_latency(t.input, t.rill_output, p.partitions, rate, seconds,
                                     [&] { a.wait_until_running(std::chrono::minutes(1)); });
    a.close();
  }
  if (r.base) {
    auto t = fresh("w1-lat", p.partitions);
    params q = p;
    const long total = static_cast<long>(rate * seconds);
    const std::string out = t.output;
    loop_work work;
    work.record = [out](rd_kafka_t* prod, const rd_kafka_message_t& m) {
      produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, m.payload, m.len,
              rd_kafka_message_timestamp(&m, nullptr));
    };
    std::atomic<std::int64_t> assigned{0};
    std::thread loop([&] { run_loop(q, t.input, total, work, &assigned); });
    r.base->latency = measure_latency(t.input, t.output, p.partitions, rate, seconds, [&] {
      while (assigned.load() == 0)  // the loop's group join (about 3 s on the mock)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    loop.join();
  }
}

}  // namespace bench
