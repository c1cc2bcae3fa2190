// The librdkafka consumer: batch polls with the rebalance callback, commits, offsets, and a
// close bounded by the session timeout.
#include <algorithm>
#include <chrono>
#include <exception>

#include <fmt/format.h>

#include "src/kafka/fetch_waker.hpp"
#include "src/kafka/rdkafka_common.hpp"
#include "src/log/log.hpp"

namespace rill::kafka {

namespace {

using clock = std::chrono::steady_clock;

class rdkafka_consumer final : public consumer {
 public:
  explicit rdkafka_consumer(const std::map<std::string, std::string>& props) {
    // The protocol follows from the assignors (librdkafka refuses a mix). It is read here, not
    // with rd_kafka_rebalance_protocol() in the callback: that call waits on the group's queue
    // and never returns when the group has already terminated (librdkafka issue #4041).
    if (auto it = props.find("partition.assignment.strategy"); it != props.end())
      _cooperative = it->second.find("cooperative") != std::string::npos;
    if (auto it = props.find("session.timeout.ms"); it != props.end())
      _close_timeout = std::chrono::milliseconds(std::stoll(it->second)) + std::chrono::seconds(5);
    auto conf = make_conf(props);  // checks the values read below
    _waker = fetch_waker(property(props, "queued.min.messages", 100000),
                         property(props, "queued.max.messages.kbytes", 65536) * 1024);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &rdkafka_consumer::on_rebalance);
    // Served inside poll, as the rebalance callback; statistics.interval.ms says how often.
    rd_kafka_conf_set_stats_cb(conf.get(), [](rd_kafka_t* rk, char* json, size_t size, void* me) {
      static_cast<rdkafka_consumer*>(me)->_statistics.store(rk, {json, size});
      return 0;  // librdkafka frees the JSON
    });
    rd_kafka_conf_set_opaque(conf.get(), this);
    _rk = make_client(RD_KAFKA_CONSUMER, std::move(conf));
    rd_kafka_poll_set_consumer(_rk.get());
    _queue.reset(rd_kafka_queue_get_consumer(_rk.get()));
  }

  ~rdkafka_consumer() override {
    close();
    if (_abandoned) {
      // The group never let go: leave it to the session timeout rather than wait forever.
      _queue.reset();
      rd_kafka_destroy_flags(_rk.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
  }

  error subscribe(const std::vector<std::string>& topics, rebalance_listener& listener) override {
    _listener = &listener;
    rk_ptr<rd_kafka_topic_partition_list_t> list(
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const auto& t : topics)
      rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    return from_code(rd_kafka_subscribe(_rk.get(), list.get()), "subscribe");
  }

  error assign(const std::vector<partition_offset>& positions) override {
    auto list = to_list(positions);
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    return from_code(rd_kafka_assign(_rk.get(), list.get()), "assign");
  }

  error poll(milliseconds timeout, std::size_t max, std::vector<consumed_record>& out) override {
    _batch.resize(std::max<std::size_t>(max, 1));
    if (_waker.should_wake(rd_kafka_queue_length(_queue.get()))) wake_fetchers();
    const ssize_t n = rd_kafka_consume_batch_queue(_queue.get(), static_cast<int>(timeout.count()),
                                                   _batch.data(), _batch.size());
    if (n < 0) return from_code(rd_kafka_last_error(), "poll");
    if (_pending) {
      for (ssize_t i = 0; i < n; ++i) rd_kafka_message_destroy(_batch[static_cast<std::size_t>(i)]);
      rethrow_pending();
    }
    error first;
    std::size_t value_bytes = 0;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = _batch[static_cast<std::size_t>(i)];
      value_bytes += m->len;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          error e = from_code(m->err, fmt::format("consume {}", rd_kafka_message_errstr(m)));
          log::logger().warn("consume failed", log::kv("client", rd_kafka_name(_rk.get())),
                             log::kv("error", e.message()));
          if (!first || e.type() == error::kind::fatal) first = e;
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      consumed_record r;
      r.owner = consumed_record::owner_ptr(
          m, [](void* p) { rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(p)); });
      r.raw.topic = rd_kafka_topic_name(m->rkt);
      r.raw.partition = m->partition;
      r.raw.offset = m->offset;
      r.raw.timestamp = rd_kafka_message_timestamp(m, nullptr);
      if (m->key != nullptr)
        r.raw.key = bytes_view(static_cast<const std::byte*>(m->key), m->key_len);
      if (m->payload != nullptr)
        r.raw.value = bytes_view(static_cast<const std::byte*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          if (value == nullptr)
            r.raw.headers.add(name, std::nullopt);
          else
            r.raw.headers.add(name, std::string(static_cast<const char*>(value), size));
        }
      }
      out.push_back(std::move(r));
    }
    _waker.polled(static_cast<std::size_t>(n), value_bytes);
    if (char reason[256];
        rd_kafka_fatal_error(_rk.get(), reason, sizeof reason) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return {error::kind::fatal, 0, fmt::format("consumer fatal error: {}", reason)};
    }
    return first.type() == error::kind::fatal ? first : error{};
  }

  error pause(const std::vector<topic_partition>& parts) override {
    auto list = to_list(parts);
    return from_code(rd_kafka_pause_partitions(_rk.get(), list.get()), "pause");
  }
  error resume(const std::vector<topic_partition>& parts) override {
    auto list = to_list(parts);
    return from_code(rd_kafka_resume_partitions(_rk.get(), list.get()), "resume");
  }
  error seek(const std::vector<partition_offset>& positions) override {
    auto list = to_list(positions);
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].offset < 0) list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    if (error e = from_error(rd_kafka_seek_partitions(_rk.get(), list.get(), 10000), "seek"))
      return e;
    return list_error(list.get(), "seek");
  }
  error commit(const std::vector<partition_offset>& offsets) override {
    if (offsets.empty()) return {};
    auto list = to_list(offsets);
    if (error e = from_code(rd_kafka_commit(_rk.get(), list.get(), 0), "commit offsets")) return e;
    return list_error(list.get(), "commit offsets");
  }
  error committed(std::vector<partition_offset>& inout, milliseconds timeout) override {
    auto list = to_list(inout);
    if (error e =
            from_code(rd_kafka_committed(_rk.get(), list.get(), static_cast<int>(timeout.count())),
                      "committed")) {
      return e;
    }
    for (int i = 0; i < list->cnt; ++i) {
      partition_offset& po = inout[static_cast<std::size_t>(i)];
      po.offset = list->elems[i].offset >= 0 ? list->elems[i].offset : -1;
      const auto& e = list->elems[i];
      po.metadata = e.metadata != nullptr
                        ? std::string(static_cast<const char*>(e.metadata), e.metadata_size)
                        : std::string();
    }
    return {};
  }
  error end_offsets(std::vector<partition_offset>& inout, milliseconds timeout) override {
    return query_watermarks(_rk.get(), inout, true, timeout);
  }

  std::int64_t position(const topic_partition& tp) override {
    auto list = to_list(std::vector<topic_partition>{tp});
    if (rd_kafka_position(_rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    return list->elems[0].offset >= 0 ? list->elems[0].offset : -1;
  }

  bool caught_up(const topic_partition& tp) override {
    auto list = to_list(std::vector<topic_partition>{tp});
    if (rd_kafka_position(_rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    const std::int64_t position = list->elems[0].offset;
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(_rk.get(), tp.topic.c_str(), tp.partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return false;
    }
    return high >= 0 && (position >= high || (position < 0 && high == low));
  }
  std::unique_ptr<group_metadata> metadata() override {
    return std::make_unique<rdkafka_group_metadata>(rd_kafka_consumer_group_metadata(_rk.get()));
  }
  std::string member_id() override {
    char* id = rd_kafka_memberid(_rk.get());
    std::string out = id ? id : "";
    if (id) rd_kafka_mem_free(_rk.get(), id);
    return out;
  }
  std::optional<client_statistics> statistics() const override { return _statistics.load(); }
  // Leaves the group, answering the rebalances that leaving raises, for at most the session
  // timeout and a little more: past that the broker has evicted the member anyway, and a close
  // that waits on a group that never answers would hang the application's shutdown.
  void close() override {
    if (_closed || !_rk) return;
    _closed = true;
    rk_ptr<rd_kafka_queue_t> q(rd_kafka_queue_new(_rk.get()));
    if (error e = from_error(rd_kafka_consumer_close_queue(_rk.get(), q.get()), "close")) {
      log::logger().warn("closing the consumer failed", log::kv("client", rd_kafka_name(_rk.get())),
                         log::kv("error", e.message()));
      _pending = nullptr;
      return;
    }
    const auto deadline = clock::now() + _close_timeout;
    while (!rd_kafka_consumer_closed(_rk.get())) {
      if (clock::now() > deadline) {
        log::logger().warn("the group did not let go in time; leaving it to evict us",
                           log::kv("client", rd_kafka_name(_rk.get())),
                           log::kv("timeout_ms", _close_timeout.count()));
        _abandoned = true;
        break;
      }
      rk_ptr<rd_kafka_event_t> ev(rd_kafka_queue_poll(q.get(), 100));
      if (ev && rd_kafka_event_type(ev.get()) == RD_KAFKA_EVENT_REBALANCE) {
        on_rebalance(_rk.get(), rd_kafka_event_error(ev.get()),
                     rd_kafka_event_topic_partition_list(ev.get()), this);
      }
    }
    _pending = nullptr;  // a listener failure while leaving changes nothing now
    log::logger().debug("consumer closed", log::kv("client", rd_kafka_name(_rk.get())),
                        log::kv("fetcher_wakeups", _waker.wakes()));
  }

 private:
  // Runs inside rd_kafka_consume_batch_queue, below C frames: an exception from the listener
  // is kept and rethrown by poll() once librdkafka has returned.
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<rdkafka_consumer*>(opaque);
    if (self->_closed && err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // A grant from a rebalance that was under way when the close began. The tasks are gone,
      // so the listener hears nothing; the group only needs an answer before it lets the
      // member leave (eager: an empty assignment; cooperative: the grant, revoked next).
      self->answer(rk, parts, reply::decline);
      return;
    }
    try {
      const auto partitions = from_list(parts);
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        self->answer(rk, parts, reply::take);
        if (self->_listener) self->_listener->on_assigned(partitions);
        return;
      }
      if (self->_listener) {
        if (rd_kafka_assignment_lost(rk))
          self->_listener->on_lost(partitions);
        else
          self->_listener->on_revoked(partitions);
      }
    } catch (...) {
      if (!self->_pending) self->_pending = std::current_exception();
    }
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) self->answer(rk, parts, reply::give_up);
  }

  // How a rebalance is answered: take granted partitions, decline a grant (closing: eager
  // takes nothing, cooperative must take the grant and is revoked next), give up revoked ones.
  enum class reply { take, decline, give_up };
  // A failure leaves the consumer out of step with its group, which the next rebalance
  // repairs; it is logged, since the callback has no caller to return it to.
  void answer(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* parts, reply r) {
    error e;
    if (_cooperative) {
      e = r == reply::give_up
              ? from_error(rd_kafka_incremental_unassign(rk, parts), "incremental unassign")
              : from_error(rd_kafka_incremental_assign(rk, parts), "incremental assign");
    } else {
      e = from_code(rd_kafka_assign(rk, r == reply::take ? parts : nullptr), "assign");
    }
    if (e) {
      log::logger().warn("answering a rebalance failed", log::kv("client", rd_kafka_name(rk)),
                         log::kv("error", e.message()));
    }
  }

  // Asks each partition's leader for its end offset (one ListOffsets per leader, one round
  // trip): the request wakes the broker thread that fetches those partitions, which then
  // sees room in the queue (fetch_waker.hpp). The answer itself is not needed, and a failure
  // only means no wake-up, so the result is ignored on purpose. It waits for the answer
  // rather than leaving the lookup behind (timeout 0): a late answer to an abandoned lookup
  // is not safe in every librdkafka version.
  void wake_fetchers() {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(_rk.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    rk_ptr<rd_kafka_topic_partition_list_t> list(raw);
    if (list->cnt == 0) return;
    for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_END;
    (void)rd_kafka_offsets_for_times(_rk.get(), list.get(), 1000);
  }

  static std::size_t property(const std::map<std::string, std::string>& props,
                              const std::string& key, std::size_t fallback) {
    auto it = props.find(key);
    return it == props.end() ? fallback : std::stoull(it->second);
  }

  void rethrow_pending() {
    if (_pending) std::rethrow_exception(std::exchange(_pending, nullptr));
  }

  rk_ptr<rd_kafka_t> _rk;
  rk_ptr<rd_kafka_queue_t> _queue;
  rebalance_listener* _listener = nullptr;
  std::exception_ptr _pending;
  std::vector<rd_kafka_message_t*> _batch;
  fetch_waker _waker{100000, 65536 * 1024};
  bool _cooperative = false;
  // librdkafka's default session.timeout.ms (45 s) + 5 s, unless the properties set one.
  std::chrono::milliseconds _close_timeout{std::chrono::seconds(50)};
  bool _closed = false;
  bool _abandoned = false;
  statistics_slot _statistics;
};

}  // namespace

std::unique_ptr<consumer> make_rdkafka_consumer(const std::map<std::string, std::string>& props) {
  return std::make_unique<rdkafka_consumer>(props);
}

}  // namespace rill::kafka
