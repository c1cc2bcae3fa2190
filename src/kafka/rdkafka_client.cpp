#include "src/kafka/rdkafka_client.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <rill/errors.hpp>

#include "src/kafka/embedded_broker.hpp"
#include "src/kafka/rdkafka_handles.hpp"

namespace rill::kafka {

namespace {

using clock = std::chrono::steady_clock;

// The one place librdkafka's codes become Rill's error kinds.
error::kind classify(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return error::kind::none;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__STATE:
      return error::kind::task_migrated;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
      return error::kind::retriable;
    default:
      return error::kind::fatal;
  }
}

error from_code(rd_kafka_resp_err_t code, std::string_view what) {
  if (code == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return {classify(code), code, fmt::format("{}: {}", what, rd_kafka_err2str(code))};
}

// Transactional calls say themselves whether an error is fatal, retriable or needs an abort.
error from_error(rd_kafka_error_t* raw, std::string_view what) {
  if (raw == nullptr) return {};
  rk_ptr<rd_kafka_error_t> e(raw);
  const auto code = rd_kafka_error_code(raw);
  std::string message = fmt::format("{}: {}", what, rd_kafka_error_string(raw));
  error::kind k = classify(code);
  if (k != error::kind::task_migrated) {
    if (rd_kafka_error_is_fatal(raw))
      k = error::kind::fatal;
    else if (rd_kafka_error_txn_requires_abort(raw))
      k = error::kind::abortable;
    else if (rd_kafka_error_is_retriable(raw))
      k = error::kind::retriable;
  }
  return {k, code, std::move(message)};
}

rk_ptr<rd_kafka_conf_t> make_conf(const std::map<std::string, std::string>& props) {
  rk_ptr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      throw config_error(fmt::format("librdkafka property '{}' = '{}': {}", k, v, err));
    }
  }
  return conf;
}

void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
  const char* name = rd_kafka_name(rk);
  if (level <= 3)
    spdlog::error("librdkafka {} {}: {}", name, facility, message);
  else if (level == 4)
    spdlog::warn("librdkafka {} {}: {}", name, facility, message);
  else if (level <= 6)
    spdlog::debug("librdkafka {} {}: {}", name, facility, message);
  else
    spdlog::trace("librdkafka {} {}: {}", name, facility, message);
}

rk_ptr<rd_kafka_t> make_client(rd_kafka_type_t type, rk_ptr<rd_kafka_conf_t> conf) {
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) throw config_error(fmt::format("cannot create a Kafka client: {}", err));
  (void)conf.release();  // rd_kafka_new took ownership
  return rk_ptr<rd_kafka_t>(rk);
}

rk_ptr<rd_kafka_topic_partition_list_t> to_list(const std::vector<topic_partition>& parts) {
  rk_ptr<rd_kafka_topic_partition_list_t> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& tp : parts)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

rk_ptr<rd_kafka_topic_partition_list_t> to_list(const std::vector<partition_offset>& offsets) {
  rk_ptr<rd_kafka_topic_partition_list_t> list(
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& po : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), po.tp.topic.c_str(), po.tp.partition)->offset =
        po.offset;
  }
  return list;
}

std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

// The first per-partition error of a list, if any.
error list_error(const rd_kafka_topic_partition_list_t* list, std::string_view what) {
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      return from_code(list->elems[i].err, fmt::format("{} {}-{}", what, list->elems[i].topic,
                                                       list->elems[i].partition));
    }
  }
  return {};
}

class rdkafka_group_metadata final : public group_metadata {
 public:
  explicit rdkafka_group_metadata(rd_kafka_consumer_group_metadata_t* m) : handle(m) {}
  rk_ptr<rd_kafka_consumer_group_metadata_t> handle;
};

// ---------------------------------------------------------------------------------------
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
    auto conf = make_conf(props);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &rdkafka_consumer::on_rebalance);
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
    const ssize_t n = rd_kafka_consume_batch_queue(_queue.get(), static_cast<int>(timeout.count()),
                                                   _batch.data(), _batch.size());
    if (n < 0) return from_code(rd_kafka_last_error(), "poll");
    if (_pending) {
      for (ssize_t i = 0; i < n; ++i) rd_kafka_message_destroy(_batch[static_cast<std::size_t>(i)]);
      rethrow_pending();
    }
    error first;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = _batch[static_cast<std::size_t>(i)];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          error e = from_code(m->err, fmt::format("consume {}", rd_kafka_message_errstr(m)));
          spdlog::warn("consumer {}: {}", rd_kafka_name(_rk.get()), e.message());
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
      inout[static_cast<std::size_t>(i)].offset =
          list->elems[i].offset >= 0 ? list->elems[i].offset : -1;
    }
    return {};
  }
  error end_offsets(std::vector<partition_offset>& inout, milliseconds timeout) override {
    for (auto& po : inout) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      if (auto e = rd_kafka_query_watermark_offsets(_rk.get(), po.tp.topic.c_str(), po.tp.partition,
                                                    &low, &high, static_cast<int>(timeout.count()));
          e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return from_code(e, fmt::format("end offset of {}", po.tp.to_string()));
      }
      po.offset = high;
    }
    return {};
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
  // Leaves the group, answering the rebalances that leaving raises, for at most the session
  // timeout and a little more: past that the broker has evicted the member anyway, and a close
  // that waits on a group that never answers would hang the application's shutdown.
  void close() override {
    if (_closed || !_rk) return;
    _closed = true;
    rk_ptr<rd_kafka_queue_t> q(rd_kafka_queue_new(_rk.get()));
    if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(_rk.get(), q.get())) {
      spdlog::warn("consumer {}: close: {}", rd_kafka_name(_rk.get()), rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      _pending = nullptr;
      return;
    }
    const auto deadline = clock::now() + _close_timeout;
    while (!rd_kafka_consumer_closed(_rk.get())) {
      if (clock::now() > deadline) {
        spdlog::warn("consumer {}: the group did not let go within {} ms; leaving it to evict us",
                     rd_kafka_name(_rk.get()), _close_timeout.count());
        _abandoned = true;
        break;
      }
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q.get(), 100);
      if (ev == nullptr) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE) {
        on_rebalance(_rk.get(), rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev),
                     this);
      }
      rd_kafka_event_destroy(ev);
    }
    _pending = nullptr;  // a listener failure while leaving changes nothing now
  }

 private:
  // Runs inside rd_kafka_consume_batch_queue, below C frames: an exception from the listener
  // is kept and rethrown by poll() once librdkafka has returned.
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<rdkafka_consumer*>(opaque);
    const bool cooperative = self->_cooperative;
    if (self->_closed && err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // A grant from a rebalance that was under way when the close began. The tasks are gone,
      // so the listener hears nothing; the group only needs an answer before it lets the
      // member leave (eager: an empty assignment; cooperative: the grant, revoked next).
      if (cooperative)
        (void)from_error(rd_kafka_incremental_assign(rk, parts), "incremental assign");
      else
        rd_kafka_assign(rk, nullptr);
      return;
    }
    try {
      const auto partitions = from_list(parts);
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative)
          from_error(rd_kafka_incremental_assign(rk, parts), "incremental assign");
        else
          rd_kafka_assign(rk, parts);
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
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative)
        from_error(rd_kafka_incremental_unassign(rk, parts), "incremental unassign");
      else
        rd_kafka_assign(rk, nullptr);
    }
  }

  void rethrow_pending() {
    if (_pending) std::rethrow_exception(std::exchange(_pending, nullptr));
  }

  rk_ptr<rd_kafka_t> _rk;
  rk_ptr<rd_kafka_queue_t> _queue;
  rebalance_listener* _listener = nullptr;
  std::exception_ptr _pending;
  std::vector<rd_kafka_message_t*> _batch;
  bool _cooperative = false;
  // librdkafka's default session.timeout.ms (45 s) + 5 s, unless the properties set one.
  std::chrono::milliseconds _close_timeout{std::chrono::seconds(50)};
  bool _closed = false;
  bool _abandoned = false;
};

// ---------------------------------------------------------------------------------------
class rdkafka_producer final : public producer {
 public:
  explicit rdkafka_producer(const std::map<std::string, std::string>& props) {
    auto conf = make_conf(props);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &rdkafka_producer::on_delivery);
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
      rd_kafka_headers_t* hdrs = nullptr;
      if (!headers.empty()) {
        hdrs = rd_kafka_headers_new(headers.size());
        for (const auto& h : headers) {
          rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                              h.value ? h.value->data() : nullptr,
                              h.value ? static_cast<ssize_t>(h.value->size()) : 0);
        }
      }
      rd_kafka_vu_t vus[7];
      std::size_t n = 0;
      std::string topic_name(topic);
      vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
      vus[n++].u.cstr = topic_name.c_str();
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
      if (hdrs != nullptr) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = hdrs;
      }
      rd_kafka_error_t* e = rd_kafka_produceva(_rk.get(), vus, n);
      if (e == nullptr) return {};
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);  // not taken on failure
      if (rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__QUEUE_FULL && clock::now() < deadline) {
        rd_kafka_error_destroy(e);
        rd_kafka_poll(_rk.get(), 10);  // let deliveries drain the queue
        continue;
      }
      return from_error(e, fmt::format("produce to {}", topic));
    }
  }

  error flush(milliseconds timeout) override {
    rd_kafka_resp_err_t e = rd_kafka_flush(_rk.get(), static_cast<int>(timeout.count()));
    error out = std::exchange(_first_delivery_error, error{});
    if (out) return out;
    return from_code(e, "flush");
  }

  void poll() override { rd_kafka_poll(_rk.get(), 0); }

  std::optional<std::int64_t> delivered_offset(const topic_partition& tp) const override {
    for (const auto& [rkt, offsets] : _delivered) {
      if (tp.partition < static_cast<std::int32_t>(offsets.size()) &&
          offsets[static_cast<std::size_t>(tp.partition)] >= 0 &&
          tp.topic == rd_kafka_topic_name(rkt)) {
        return offsets[static_cast<std::size_t>(tp.partition)];
      }
    }
    return std::nullopt;
  }

  std::int32_t partition_count(std::string_view topic, milliseconds timeout) override {
    rk_ptr<rd_kafka_topic_t> t(rd_kafka_topic_new(_rk.get(), std::string(topic).c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(_rk.get(), 0, t.get(), &md, static_cast<int>(timeout.count())) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return -1;
    }
    rk_ptr<const rd_kafka_metadata_t> owned(md);
    if (md->topic_cnt != 1 || md->topics[0].err) return -1;
    return md->topics[0].partition_cnt;
  }

  error init_transactions(milliseconds timeout) override {
    return from_error(rd_kafka_init_transactions(_rk.get(), static_cast<int>(timeout.count())),
                      "init transactions");
  }
  error begin_transaction() override {
    return from_error(rd_kafka_begin_transaction(_rk.get()), "begin transaction");
  }
  error send_offsets_to_transaction(const std::vector<partition_offset>& offsets,
                                    const group_metadata& group, milliseconds timeout) override {
    auto list = to_list(offsets);
    const auto& g = dynamic_cast<const rdkafka_group_metadata&>(group);
    return from_error(rd_kafka_send_offsets_to_transaction(_rk.get(), list.get(), g.handle.get(),
                                                           static_cast<int>(timeout.count())),
                      "send offsets to transaction");
  }
  error commit_transaction(milliseconds timeout) override {
    error e = from_error(rd_kafka_commit_transaction(_rk.get(), static_cast<int>(timeout.count())),
                         "commit transaction");
    error delivery = std::exchange(_first_delivery_error, error{});
    return e ? e : delivery;
  }
  error abort_transaction(milliseconds timeout) override {
    _first_delivery_error = {};
    return from_error(rd_kafka_abort_transaction(_rk.get(), static_cast<int>(timeout.count())),
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
    if (!self->_first_delivery_error) {
      self->_first_delivery_error = from_code(
          m->err, fmt::format("delivery to {}-{}", rd_kafka_topic_name(m->rkt), m->partition));
    }
  }

  rk_ptr<rd_kafka_t> _rk;
  error _first_delivery_error;
  // Last delivered offset per partition, by librdkafka's topic handle (stable per producer).
  std::unordered_map<const rd_kafka_topic_t*, std::vector<std::int64_t>> _delivered;
};

// ---------------------------------------------------------------------------------------
// Metadata through a plain producer; shared by the admin implementations.
error read_partition_counts(rd_kafka_t* rk, const std::vector<std::string>& topics,
                            std::map<std::string, std::int32_t>& out, milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  // All topics, so that asking about a topic does not create it where auto-creation is on.
  if (auto e = rd_kafka_metadata(rk, 1, nullptr, &md, static_cast<int>(timeout.count()));
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return from_code(e, "metadata");
  }
  rk_ptr<const rd_kafka_metadata_t> owned(md);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err) continue;
    if (std::find(topics.begin(), topics.end(), t.topic) != topics.end())
      out[t.topic] = t.partition_cnt;
  }
  return {};
}

class rdkafka_admin final : public admin {
 public:
  explicit rdkafka_admin(const std::map<std::string, std::string>& props)
      : _rk(make_client(RD_KAFKA_PRODUCER, make_conf(props))) {}

  error create_topics(const std::vector<new_topic>& topics, milliseconds timeout) override {
    if (topics.empty()) return {};
    std::vector<rk_ptr<rd_kafka_NewTopic_t>> owned;
    std::vector<rd_kafka_NewTopic_t*> raw;
    char err[512];
    for (const auto& t : topics) {
      rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                      t.replication_factor, err, sizeof err);
      if (nt == nullptr)
        return {error::kind::fatal, 0, fmt::format("create topic {}: {}", t.name, err)};
      for (const auto& [k, v] : t.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
      owned.emplace_back(nt);
      raw.push_back(nt);
    }
    rk_ptr<rd_kafka_AdminOptions_t> options(
        rd_kafka_AdminOptions_new(_rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()),
                                                err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), err,
                                              sizeof err);
    rk_ptr<rd_kafka_queue_t> queue(rd_kafka_queue_new(_rk.get()));
    rd_kafka_CreateTopics(_rk.get(), raw.data(), raw.size(), options.get(), queue.get());
    rk_ptr<rd_kafka_event_t> ev(
        rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
    if (!ev)
      return {error::kind::retriable, RD_KAFKA_RESP_ERR__TIMED_OUT, "create topics: timed out"};
    if (rd_kafka_event_error(ev.get())) {
      return from_code(rd_kafka_event_error(ev.get()),
                       fmt::format("create topics ({})", rd_kafka_event_error_string(ev.get())));
    }
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev.get());
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &n);
    for (size_t i = 0; i < n; ++i) {
      auto code = rd_kafka_topic_result_error(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        continue;
      return from_code(code,
                       fmt::format("create topic {} ({})", rd_kafka_topic_result_name(results[i]),
                                   rd_kafka_topic_result_error_string(results[i])
                                       ? rd_kafka_topic_result_error_string(results[i])
                                       : ""));
    }
    return {};
  }

  error partition_counts(const std::vector<std::string>& topics,
                         std::map<std::string, std::int32_t>& out, milliseconds timeout) override {
    return read_partition_counts(_rk.get(), topics, out, timeout);
  }

 private:
  rk_ptr<rd_kafka_t> _rk;
};

// The in-process mock cluster cannot create topics through the Admin API; it creates them
// directly. Metadata still goes over the wire.
class embedded_admin final : public admin {
 public:
  embedded_admin(std::shared_ptr<embedded_broker_impl> broker,
                 const std::map<std::string, std::string>& props)
      : _broker(std::move(broker)), _rk(make_client(RD_KAFKA_PRODUCER, make_conf(props))) {}

  error create_topics(const std::vector<new_topic>& topics, milliseconds) override {
    for (const auto& t : topics) {
      if (std::string e = _broker->create_topic(t.name, t.partitions); !e.empty()) {
        return {error::kind::fatal, 0, e};
      }
    }
    return {};
  }
  error partition_counts(const std::vector<std::string>& topics,
                         std::map<std::string, std::int32_t>& out, milliseconds timeout) override {
    return read_partition_counts(_rk.get(), topics, out, timeout);
  }

 private:
  std::shared_ptr<embedded_broker_impl> _broker;
  rk_ptr<rd_kafka_t> _rk;
};

// A rill-broker in another process: topics are created through its control port.
class control_admin final : public admin {
 public:
  control_admin(std::string control, const std::map<std::string, std::string>& props)
      : _control(std::move(control)), _rk(make_client(RD_KAFKA_PRODUCER, make_conf(props))) {}

  error create_topics(const std::vector<new_topic>& topics, milliseconds) override {
    for (const auto& t : topics) {
      if (std::string e = control_create_topic(_control, t.name, t.partitions); !e.empty()) {
        return {error::kind::fatal, 0, e};
      }
    }
    return {};
  }
  error partition_counts(const std::vector<std::string>& topics,
                         std::map<std::string, std::int32_t>& out, milliseconds timeout) override {
    return read_partition_counts(_rk.get(), topics, out, timeout);
  }

 private:
  std::string _control;
  rk_ptr<rd_kafka_t> _rk;
};

class rdkafka_factory final : public client_factory {
 public:
  explicit rdkafka_factory(cluster_target target) : _target(std::move(target)) {}

  std::unique_ptr<consumer> make_consumer(
      const std::map<std::string, std::string>& props) override {
    return std::make_unique<rdkafka_consumer>(with_bootstrap(props));
  }
  std::unique_ptr<producer> make_producer(
      const std::map<std::string, std::string>& props) override {
    return std::make_unique<rdkafka_producer>(with_bootstrap(props));
  }
  std::unique_ptr<admin> make_admin(const std::map<std::string, std::string>& props) override {
    if (_target.embedded)
      return std::make_unique<embedded_admin>(_target.embedded, with_bootstrap(props));
    if (!_target.control_address.empty())
      return std::make_unique<control_admin>(_target.control_address, with_bootstrap(props));
    return std::make_unique<rdkafka_admin>(with_bootstrap(props));
  }

 private:
  std::map<std::string, std::string> with_bootstrap(
      std::map<std::string, std::string> props) const {
    props["bootstrap.servers"] = _target.bootstrap_servers;
    return props;
  }
  cluster_target _target;
};

}  // namespace

std::unique_ptr<client_factory> make_rdkafka_factory(cluster_target target) {
  return std::make_unique<rdkafka_factory>(std::move(target));
}

void validate_properties(const std::map<std::string, std::string>& props, std::string_view prefix) {
  rk_ptr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      throw config_error(fmt::format("setting '{}{}' = '{}': {}", prefix, k, v, err));
    }
  }
}

std::string librdkafka_version() {
  return rd_kafka_version_str();
}

}  // namespace rill::kafka
