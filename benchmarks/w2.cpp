// W2: a filter and a map on JSON orders.
#include "e2e_embedded.hpp"

namespace bench {

std::string check_summaries(const std::string& topic, int partitions, long want) {
  summary_check check;
  read_all(topic, partitions, [&](const rd_kafka_message_t& m) {
    check.add(rill::bytes_view(static_cast<const std::byte*>(m.payload), m.len), topic);
  });
  return check.verdict(want);
}

row w2(const params& p) {
  row r{"W2", fmt::format("filter + map on JSON orders (struct serde), {} records", p.records)};
  r.target = ">= 0.85";
  r.label = "W2 JSON filter+map";
  auto t = fresh("w2", p.partitions);
  {
    rk_ptr prod = make_producer({{"linger.ms", "20"}});
    auto serde = rill::default_serde<order>();
    rill::bytes buf;
    for (long i = 0; i < p.records; ++i) {
      order o = make_order(i);
      serde.encode(o, buf, {t.input, false, nullptr});
      produce(prod.get(), t.input, RD_KAFKA_PARTITION_UA, o.id.data(), o.id.size(), buf.data(),
              buf.size());
    }
    flush(prod.get());
  }
  long want = 0;
  for (long i = 0; i < p.records; ++i) want += i % 10 < 7 ? 1 : 0;
  best_of(
      p, t, r,
      [&](const topics_of_run& t) {
        rill::streams_builder b;
        b.stream<std::string, order>(t.input)
            .filter([](const std::string&, const order& o) { return o.status == "paid"; })
            .map_values([](const order& o) { return summarize(o); })
            .to(t.rill_output);
        side s = run_rill(b.build(), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_summaries(t.rill_output, p.partitions, want);
        return s;
      },
      [&](const topics_of_run& t) {
        loop_work work;
        auto in_serde = std::make_shared<rill::any_serde<order>>(rill::default_serde<order>());
        auto out_serde =
            std::make_shared<rill::any_serde<order_summary>>(rill::default_serde<order_summary>());
        auto buf = std::make_shared<rill::bytes>();
        const std::string in = t.input, out = t.output;
        work.record = [=](rd_kafka_t* prod, const rd_kafka_message_t& m) {
          rill::bytes_view v(static_cast<const std::byte*>(m.payload), m.len);
          order o = in_serde->decode(&v, {in, false, nullptr});
          if (o.status != "paid") return;
          out_serde->encode(summarize(o), *buf, {out, false, nullptr});
          produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, buf->data(), buf->size(),
                  rd_kafka_message_timestamp(&m, nullptr));
        };
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_summaries(t.output, p.partitions, want);
        return s;
      });
  r.baseline_name = "librdkafka loop, same JSON serde";
  return r;
}

}  // namespace bench
