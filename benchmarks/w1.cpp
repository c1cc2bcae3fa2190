// W1: pass-through, Rill against a consume -> produce loop.
#include "e2e_embedded.hpp"

namespace bench {

row w1(const params& p) {
  row r{"W1", fmt::format("pass-through, {} B values, {} records, {}", p.value_size, p.records,
                          p.guarantee)};
  r.target = ">= 0.90";
  r.label = "W1 pass-through";
  auto t0 = fresh("w1", p.partitions);
  const std::uint64_t sum = preload_bytes(p, t0.input);
  best_of(
      p, t0, r,
      [&](const topics_of_run& t) {
        rill::streams_builder b;
        b.stream<rill::bytes_view, rill::bytes_view>(t.input).to(t.rill_output);
        side s = run_rill(b.build(), p, t.app, p.records);
        if (s.failure.empty()) s.failure = check_copy(t.rill_output, p.partitions, p.records, sum);
        return s;
      },
      [&](const topics_of_run& t) {
        loop_work work;
        const std::string out = t.output;
        work.record = [out](rd_kafka_t* prod, const rd_kafka_message_t& m) {
          produce(prod, out, RD_KAFKA_PARTITION_UA, m.key, m.key_len, m.payload, m.len,
                  rd_kafka_message_timestamp(&m, nullptr));
        };
        side s = run_loop(p, t.input, p.records, work);
        s.failure = check_copy(t.output, p.partitions, p.records, sum);
        return s;
      },
      true);
  return r;
}

// What recording metrics at info costs: W1's Rill side with metrics.recording.level=info
// against the same with off (Rill's switch that records nothing per step), alternating.
row w1_metrics(const params& p) {
  row r{"W1-metrics", fmt::format("pass-through, {} B values, {} records, metrics info vs off",
                                  p.value_size, p.records)};
  r.target = ">= 0.98";
  r.label = "W1 metrics cost";
  r.baseline_name = "Rill, metrics off";
  auto t0 = fresh("w1m", p.partitions);
  const std::uint64_t sum = preload_bytes(p, t0.input);
  auto once = [&](const topics_of_run& t, const std::string& level, const std::string& out) {
    params q = p;
    q.metrics_level = level;
    rill::streams_builder b;
    b.stream<rill::bytes_view, rill::bytes_view>(t.input).to(out);
    side s = run_rill(b.build(), q, t.app + "-" + level, p.records);
    if (s.failure.empty()) s.failure = check_copy(out, p.partitions, p.records, sum);
    return s;
  };
  best_of(
      p, t0, r, [&](const topics_of_run& t) { return once(t, "info", t.rill_output); },
      [&](const topics_of_run& t) { return once(t, "off", t.output); });
  return r;
}

}  // namespace bench
