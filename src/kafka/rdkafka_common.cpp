#include "src/kafka/rdkafka_common.hpp"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include <rill/errors.hpp>

#include "src/log/log.hpp"
#include "src/log/secrets.hpp"

namespace rill::kafka {

// The one place librdkafka's codes become Rill's error kinds.
error::kind classify(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return error::kind::none;
    // librdkafka reports a fenced transactional producer as the fatal __FENCED (it folds the
    // coordinator's PRODUCER_FENCED and INVALID_PRODUCER_EPOCH into it); the broker's own
    // PRODUCER_FENCED means the same: a newer producer holds the transactional.id.
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
      return error::kind::producer_fenced;
    // A stale epoch that a new producer may recover from (a timed-out transaction's bump):
    // Kafka Streams takes it as task migrated.
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

error from_error(rd_kafka_error_t* raw, std::string_view what) {
  if (raw == nullptr) return {};
  rk_ptr<rd_kafka_error_t> e(raw);
  const auto code = rd_kafka_error_code(raw);
  std::string message = fmt::format("{}: {}", what, rd_kafka_error_string(raw));
  error::kind k = classify(code);
  if (k != error::kind::task_migrated && k != error::kind::producer_fenced) {
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
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw config_error(property_error("librdkafka property ", k, v, err, props));
  }
  return conf;
}

std::string property_error(std::string_view what, const std::string& key, const std::string& value,
                           const char* librdkafka_error,
                           const std::map<std::string, std::string>& props) {
  // librdkafka's message may quote the value: a secret's is scrubbed from it too.
  auto secrets = log::secret_values(props);
  if (log::is_secret_key(key)) secrets.push_back(value);
  return fmt::format("{}'{}' = '{}': {}", what, key, log::shown(key, value),
                     log::scrub(librdkafka_error, secrets));
}

namespace {

void log_cb(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug
  const log::level l = level <= 3   ? log::level::error
                       : level == 4 ? log::level::warn
                       : level <= 6 ? log::level::debug
                                    : log::level::trace;
  log::logger().emit(l, message, log::kv("client", rd_kafka_name(rk)),
                     log::kv("facility", facility), log::kv("source", "librdkafka"));
}

}  // namespace

void route_logs(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, log_cb);
}

rk_ptr<rd_kafka_t> make_client(rd_kafka_type_t type, rk_ptr<rd_kafka_conf_t> conf) {
  route_logs(conf.get());
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) {
    throw config_error(fmt::format("cannot create a Kafka client: {}",
                                   log::scrub(err, log::registered_secrets())));
  }
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
    rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_add(list.get(), po.tp.topic.c_str(), po.tp.partition);
    p->offset = po.offset;
    if (!po.metadata.empty()) {
      // The list frees it (with free) when it is destroyed.
      p->metadata = std::malloc(po.metadata.size());
      std::memcpy(p->metadata, po.metadata.data(), po.metadata.size());
      p->metadata_size = po.metadata.size();
    }
  }
  return list;
}

std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

error list_error(const rd_kafka_topic_partition_list_t* list, std::string_view what) {
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) {
      return from_code(list->elems[i].err, fmt::format("{} {}-{}", what, list->elems[i].topic,
                                                       list->elems[i].partition));
    }
  }
  return {};
}

error query_watermarks(rd_kafka_t* rk, std::vector<partition_offset>& inout, bool high,
                       milliseconds timeout) {
  for (auto& po : inout) {
    std::int64_t low_mark = 0;
    std::int64_t high_mark = 0;
    if (auto e =
            rd_kafka_query_watermark_offsets(rk, po.tp.topic.c_str(), po.tp.partition, &low_mark,
                                             &high_mark, static_cast<int>(timeout.count()));
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return from_code(e, fmt::format("offsets of {}", po.tp.to_string()));
    }
    po.offset = high ? high_mark : low_mark;
  }
  return {};
}

void statistics_slot::store(const rd_kafka_t* rk, std::string_view json) {
  std::optional<client_statistics> parsed = parse_statistics(json);
  if (!parsed) {
    log::logger().debug("librdkafka's statistics did not parse; keeping the last",
                        log::kv("client", rd_kafka_name(rk)));
    return;
  }
  std::lock_guard lock(_mutex);
  _latest = std::move(parsed);
}

std::optional<client_statistics> statistics_slot::load() const {
  std::lock_guard lock(_mutex);
  return _latest;
}

}  // namespace rill::kafka
