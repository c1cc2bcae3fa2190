// The librdkafka producer: sends with delivery reports surfaced at flush, the last delivered
// offset per partition (changelog checkpoints), transactions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <unordered_map>

#include <fmt/format.h>

#include "src/kafka/rdkafka_common.hpp"

namespace rill::kafka {

namespace {

using clock = std::chrono::steady_clock;

// A transactional call out of the state machine's order (RD_KAFKA_RESP_ERR__STATE: a send
// before begin_transaction, a commit without one, begin twice) is a bug in the caller, not a
// lost partition: fatal, where other calls' __STATE stays task migrated.
error txn_error(rd_kafka_error_t* raw, std::string_view what) {
  error e = from_error(raw, what);
  if (e.code() != RD_KAFKA_RESP_ERR__STATE) return e;
  return {error::kind::fatal, e.code(), e.message()};
}

class rdkafka_producer final : public producer {
 public:
  explicit rdkafka_producer(const std::map<std::string, std::string>& props) {
    auto conf = make_conf(props);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &rdkafka_producer::on_delivery);
    // Served by poll and flush; statistics.interval.ms says how often.
    rd_kafka_conf_set_stats_cb(conf.get(), [](rd_kafka_t* rk, char* json, size_t size, void* me) {
      static_cast<rdkafka_producer*>(me)->_statistics.store(rk, {json, size});
      return 0;  // librdkafka frees the JSON
    });
    rd_kafka_conf_set_opaque(conf.get(), this);
    _rk = make_client(RD_KAFKA_PRODUCER, std::move(conf));
  }

  ~rdkafka_producer() override {
    // Deliveries still queued are abandoned by destroy; the runtime flushes before this.
    rd_kafka_purge(_rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(_rk.get(), 0);
  }

  error send(std::string_view topic, std::int32_t partition, std::optional<bytes_view> key,
             std::optional<bytes_view> value, const rill::headers& headers,
             timestamp_ms timestamp) override {
    const auto deadline = clock::now() + std::chrono::seconds(30);
    for (;;) {
      rk_ptr<rd_kafka_headers_t> hdrs;
      if (!headers.empty()) {
        hdrs.reset(rd_kafka_headers_new(headers.size()));
        for (const auto& h : headers) {
          // Fails only for a read-only header list, which a new one is not.
          (void)rd_kafka_header_add(hdrs.get(), h.key.data(), static_cast<ssize_t>(h.key.size()),
                                    h.value ? h.value->data() : nullptr,
                                    h.value ? static_cast<ssize_t>(h.value->size()) : 0);
        }
      }
      rd_kafka_vu_t vus[7];
      std::size_t n = 0;
      // librdkafka wants a C string: kept from send to send, so a topic name longer than the
      // small-string buffer costs no allocation per record.
      if (_topic_name != topic) _topic_name.assign(topic);
      vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[n++].u.cstr = _topic_name.c_str();
      vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
      vus[n++].u.i32 = partition < 0 ? RD_KAFKA_PARTITION_UA : partition;
      vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
      if (key) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = const_cast<std::byte*>(key->data());
        vus[n++].u.mem.size = key->size();
      }
      if (value) {
        vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[n].u.mem.ptr = const_cast<std::byte*>(value->data());
        vus[n++].u.mem.size = value->size();
      }
      vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
      vus[n++].u.i64 = timestamp;
      if (hdrs) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = hdrs.get();
      }
      rk_ptr<rd_kafka_error_t> e(rd_kafka_produceva(_rk.get(), vus, n));
      if (!e) {
        (void)hdrs.release();  // the message owns them now
        return {};
      }
      if (rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
          clock::now() < deadline) {
        rd_kafka_poll(_rk.get(), 10);  // let deliveries drain the queue
        continue;
      }
      return from_error(e.release(), fmt::format("produce to {}", topic));
    }
  }

  error flush(milliseconds timeout) override {
    rd_kafka_resp_err_t e = rd_kafka_flush(_rk.get(), static_cast<int>(timeout.count()));
    error out = std::exchange(_first_delivery_error, error{});
    if (out) return out;
    return from_code(e, "flush");
  }

  void poll() override { rd_kafka_poll(_rk.get(), 0); }

  std::optional<detail::record_offset> delivered_offset(const topic_partition& tp) const override {
    for (const auto& [rkt, offsets] : _delivered) {
      if (tp.partition < static_cast<std::int32_t>(offsets.size()) &&
          offsets[static_cast<std::size_t>(tp.partition)] >= 0 &&
          tp.topic == rd_kafka_topic_name(rkt)) {
        return detail::record_offset{offsets[static_cast<std::size_t>(tp.partition)]};
      }
    }
    return std::nullopt;
  }

  // Asks for every topic, not this one: a request naming a topic may create it (a broker
  // with auto.create.topics.enable where the client allows it; the embedded broker always),
  // and would then never say it was missing.
  error partition_count(std::string_view topic, std::int32_t& out, milliseconds timeout) override {
    const rd_kafka_metadata_t* md = nullptr;
    if (error e = from_code(
            rd_kafka_metadata(_rk.get(), 1, nullptr, &md, static_cast<int>(timeout.count())),
            fmt::format("metadata for topic '{}'", topic))) {
      // The cluster was not reached or did not answer: nothing is known about the topic.
      return {error::kind::retriable, e.code(), e.message()};
    }
    rk_ptr<const rd_kafka_metadata_t> owned(md);
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic& t = md->topics[i];
      if (topic != t.topic) continue;
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt <= 0) {
        // Leader elections, authorization and the like: the answer may differ next time.
        return {error::kind::retriable, t.err,
                fmt::format("metadata of topic '{}': {}", topic, rd_kafka_err2str(t.err))};
      }
      out = t.partition_cnt;
      return {};
    }
    return {error::kind::fatal, error::unknown_topic,
            fmt::format("topic '{}' does not exist", topic)};
  }

  std::optional<client_statistics> statistics() const override {
    auto s = _statistics.load();
    if (s) s->delivery_errors = _delivery_errors.load(std::memory_order_relaxed);
    return s;
  }

  // librdkafka asks for a topic's leaders when the first record for it is queued, and a
  // second topic queued while that request is out waits for the next metadata scan, up to
  // 1 s later: a first commit that sends to a changelog and a sink at once stalled that long.
  // Asking for each topic now puts them all in the metadata cache. A topic that cannot be
  // looked up is left to librdkafka's own lookup at the first send, as before.
  void learn_topics(const std::vector<std::string>& topics, milliseconds timeout) override {
    for (const auto& t : topics) {
      rk_ptr<rd_kafka_topic_t> handle(rd_kafka_topic_new(_rk.get(), t.c_str(), nullptr));
      const rd_kafka_metadata_t* md = nullptr;
      // Only the cache it fills matters; a failure leaves the topic to the lookup at its send.
      (void)rd_kafka_metadata(_rk.get(), 0, handle.get(), &md, static_cast<int>(timeout.count()));
      rk_ptr<const rd_kafka_metadata_t> owned(md);
    }
  }

  error init_transactions(milliseconds timeout) override {
    return txn_error(rd_kafka_init_transactions(_rk.get(), static_cast<int>(timeout.count())),
                     "init transactions");
  }
  error begin_transaction() override {
    return txn_error(rd_kafka_begin_transaction(_rk.get()), "begin transaction");
  }
  error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                    const group_metadata& group, milliseconds timeout) override {
    auto list = to_list(offsets);
    const auto& g = dynamic_cast<const rdkafka_group_metadata&>(group);
    return txn_error(rd_kafka_send_offsets_to_transaction(_rk.get(), list.get(), g.handle.get(),
                                                          static_cast<int>(timeout.count())),
                     "send offsets to transaction");
  }
  error commit_transaction(milliseconds timeout) override {
    error e = txn_error(rd_kafka_commit_transaction(_rk.get(), static_cast<int>(timeout.count())),
                        "commit transaction");
    error delivery = std::exchange(_first_delivery_error, error{});
    return e ? e : delivery;
  }
  error abort_transaction(milliseconds timeout) override {
    _first_delivery_error = {};
    return txn_error(rd_kafka_abort_transaction(_rk.get(), static_cast<int>(timeout.count())),
                     "abort transaction");
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<rdkafka_producer*>(opaque);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto& offsets = self->_delivered[m->rkt];
      if (offsets.size() <= static_cast<std::size_t>(m->partition))
        offsets.resize(static_cast<std::size_t>(m->partition) + 1, -1);
      offsets[static_cast<std::size_t>(m->partition)] =
          std::max(offsets[static_cast<std::size_t>(m->partition)], m->offset);
      return;
    }
    self->_delivery_errors.fetch_add(1, std::memory_order_relaxed);
    if (!self->_first_delivery_error) {
      self->_first_delivery_error = from_code(
          m->err, fmt::format("delivery to {}-{}", rd_kafka_topic_name(m->rkt), m->partition));
    }
  }

  rk_ptr<rd_kafka_t> _rk;
  std::string _topic_name;  // of the last send (one thread sends, as with every client here)
  error _first_delivery_error;
  // Last delivered offset per partition, by librdkafka's topic handle (stable per producer).
  std::unordered_map<const rd_kafka_topic_t*, std::vector<std::int64_t>> _delivered;
  statistics_slot _statistics;
  std::atomic<std::int64_t> _delivery_errors{0};
};

}  // namespace

std::unique_ptr<producer> make_rdkafka_producer(const std::map<std::string, std::string>& props) {
  return std::make_unique<rdkafka_producer>(props);
}

}  // namespace rill::kafka
