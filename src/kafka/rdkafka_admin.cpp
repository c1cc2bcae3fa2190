// The librdkafka admin: one class for every broker kind. What differs is how topics are
// created and whether they can be deleted: through the Admin API on a real cluster, directly
// on the in-process mock cluster (its Admin API times out), or through a rill-broker's control
// port; the mock can delete neither way. Metadata and offsets go over the wire everywhere.
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "src/kafka/embedded_broker.hpp"
#include "src/kafka/rdkafka_common.hpp"

namespace rill::kafka {

namespace {

rk_ptr<rd_kafka_AdminOptions_t> admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                              milliseconds timeout) {
  rk_ptr<rd_kafka_AdminOptions_t> options(rd_kafka_AdminOptions_new(rk, op));
  char err[512];
  // Both only fail for timeouts out of range, which these are not.
  (void)rd_kafka_AdminOptions_set_operation_timeout(
      options.get(), static_cast<int>(timeout.count()), err, sizeof err);
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()),
                                                  err, sizeof err);
  return options;
}

// Waits for an Admin API call's result event; an error of the request itself is returned.
error await_result(rd_kafka_queue_t* queue, milliseconds timeout, std::string_view what,
                   rk_ptr<rd_kafka_event_t>& ev) {
  ev.reset(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000));
  if (!ev)
    return {error::kind::retriable, RD_KAFKA_RESP_ERR__TIMED_OUT,
            fmt::format("{}: timed out", what)};
  if (rd_kafka_event_error(ev.get())) {
    return from_code(rd_kafka_event_error(ev.get()),
                     fmt::format("{} ({})", what, rd_kafka_event_error_string(ev.get())));
  }
  return {};
}

// The first failed topic of a topics result, ignoring codes that mean "already so".
error topic_results(const rd_kafka_topic_result_t** results, std::size_t n, std::string_view what,
                    rd_kafka_resp_err_t fine) {
  for (std::size_t i = 0; i < n; ++i) {
    auto code = rd_kafka_topic_result_error(results[i]);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == fine) continue;
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    return from_code(code, fmt::format("{} {} ({})", what, rd_kafka_topic_result_name(results[i]),
                                       detail ? detail : ""));
  }
  return {};
}

class rdkafka_admin final : public admin {
 public:
  rdkafka_admin(cluster_target target, const std::map<std::string, std::string>& props)
      : _target(std::move(target)),
        _props(props),
        _rk(make_client(RD_KAFKA_PRODUCER, make_conf(props))) {}

  error create_topics(const std::vector<new_topic>& topics, milliseconds timeout) override {
    if (_target.embedded) {
      for (const auto& t : topics) {
        if (std::string e = _target.embedded->create_topic(t.name, t.partitions); !e.empty())
          return {error::kind::fatal, 0, e};
      }
      return {};
    }
    if (!_target.control_address.empty()) {
      for (const auto& t : topics) {
        if (std::string e = control_create_topic(_target.control_address, t.name, t.partitions);
            !e.empty())
          return {error::kind::fatal, 0, e};
      }
      return {};
    }
    return create_through_admin_api(topics, timeout);
  }

  error partition_counts(const std::vector<std::string>& topics,
                         std::map<std::string, std::int32_t>& out, milliseconds timeout) override {
    return read_metadata(timeout, [&](const rd_kafka_metadata_topic& t) {
      if (std::find(topics.begin(), topics.end(), t.topic) != topics.end())
        out[t.topic] = t.partition_cnt;
    });
  }

  error list_topics(std::vector<std::string>& out, milliseconds timeout) override {
    return read_metadata(timeout,
                         [&](const rd_kafka_metadata_topic& t) { out.push_back(t.topic); });
  }

  error delete_topics(const std::vector<std::string>& topics, milliseconds timeout) override {
    if (topics.empty()) return {};
    if (_target.embedded || !_target.control_address.empty()) {
      return {error::kind::unsupported, RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED,
              "the embedded broker (librdkafka's mock cluster) cannot delete topics"};
    }
    std::vector<rk_ptr<rd_kafka_DeleteTopic_t>> owned;
    std::vector<rd_kafka_DeleteTopic_t*> raw;
    for (const auto& t : topics) {
      owned.emplace_back(rd_kafka_DeleteTopic_new(t.c_str()));
      raw.push_back(owned.back().get());
    }
    auto options = admin_options(_rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
    rk_ptr<rd_kafka_queue_t> queue(rd_kafka_queue_new(_rk.get()));
    rd_kafka_DeleteTopics(_rk.get(), raw.data(), raw.size(), options.get(), queue.get());
    rk_ptr<rd_kafka_event_t> ev;
    if (error e = await_result(queue.get(), timeout, "delete topics", ev)) return e;
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
    return topic_results(results, n, "delete topic", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  }

  error list_offsets(std::vector<partition_offset>& inout, offset_spec spec,
                     milliseconds timeout) override {
    if (spec == offset_spec::by_time) {
      auto list = to_list(inout);
      if (error e = from_code(
              rd_kafka_offsets_for_times(_rk.get(), list.get(), static_cast<int>(timeout.count())),
              "offsets for times"))
        return e;
      if (error e = list_error(list.get(), "offset for time")) return e;
      for (int i = 0; i < list->cnt; ++i) {
        partition_offset& po = inout[static_cast<std::size_t>(i)];
        if (list->elems[i].offset >= 0) {
          po.offset = list->elems[i].offset;
          continue;
        }
        // No record at or after the time: the end.
        std::vector<partition_offset> end{{po.tp, 0}};
        if (error e = list_offsets(end, offset_spec::latest, timeout)) return e;
        po.offset = end[0].offset;
      }
      return {};
    }
    return query_watermarks(_rk.get(), inout, spec == offset_spec::latest, timeout);
  }

  error commit_group_offsets(const std::string& group, const std::vector<partition_offset>& offsets,
                             milliseconds timeout) override {
    if (offsets.empty()) return {};
    auto props = _props;
    props["group.id"] = group;
    props["enable.auto.commit"] = "false";
    props["session.timeout.ms"] = "6000";
    rk_ptr<rd_kafka_t> rk = make_client(RD_KAFKA_CONSUMER, make_conf(props));
    const std::string what = fmt::format("commit offsets of group '{}'", group);
    error result;
    if (_target.embedded || !_target.control_address.empty()) {
      // The mock cluster takes commits only from a member of the group's generation: join
      // (the application is stopped, so this consumer gets every partition), then commit.
      result = commit_as_member(rk.get(), offsets, timeout, what);
    } else {
      // A real cluster takes a commit from outside the group only while the group is empty,
      // which is the check that the application is stopped.
      auto list = to_list(offsets);
      result = from_code(rd_kafka_commit(rk.get(), list.get(), 0), what);
      if (!result) result = list_error(list.get(), what);
    }
    // Leaves the group if it joined; nothing to do about a failure to.
    (void)from_code(rd_kafka_consumer_close(rk.get()), "close");
    return result;
  }

 private:
  static error commit_as_member(rd_kafka_t* rk, const std::vector<partition_offset>& offsets,
                                milliseconds timeout, const std::string& what) {
    std::vector<std::string> topics;
    for (const auto& po : offsets) {
      if (std::find(topics.begin(), topics.end(), po.tp.topic) == topics.end())
        topics.push_back(po.tp.topic);
    }
    rk_ptr<rd_kafka_topic_partition_list_t> subscription(
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const auto& t : topics)
      rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (error e = from_code(rd_kafka_subscribe(rk, subscription.get()), what)) return e;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      rk_ptr<rd_kafka_message_t> m(rd_kafka_consumer_poll(rk, 100));
      rd_kafka_topic_partition_list_t* raw = nullptr;
      if (error e = from_code(rd_kafka_assignment(rk, &raw), what)) return e;
      rk_ptr<rd_kafka_topic_partition_list_t> assigned(raw);
      if (assigned->cnt >= static_cast<int>(offsets.size())) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return {error::kind::retriable, RD_KAFKA_RESP_ERR__TIMED_OUT,
                fmt::format("{}: not given every partition within {} ms; is the application "
                            "still running?",
                            what, timeout.count())};
      }
    }
    auto list = to_list(offsets);
    if (error e = from_code(rd_kafka_commit(rk, list.get(), 0), what)) return e;
    return list_error(list.get(), what);
  }

 private:
  error create_through_admin_api(const std::vector<new_topic>& topics, milliseconds timeout) {
    if (topics.empty()) return {};
    std::vector<rk_ptr<rd_kafka_NewTopic_t>> owned;
    std::vector<rd_kafka_NewTopic_t*> raw;
    char err[512];
    for (const auto& t : topics) {
      rk_ptr<rd_kafka_NewTopic_t> nt(rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                           t.replication_factor, err, sizeof err));
      if (!nt) return {error::kind::fatal, 0, fmt::format("create topic {}: {}", t.name, err)};
      for (const auto& [k, v] : t.configs) {
        if (error e = from_code(rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str()),
                                fmt::format("topic {} config {}", t.name, k)))
          return e;
      }
      raw.push_back(nt.get());
      owned.push_back(std::move(nt));
    }
    auto options = admin_options(_rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
    rk_ptr<rd_kafka_queue_t> queue(rd_kafka_queue_new(_rk.get()));
    rd_kafka_CreateTopics(_rk.get(), raw.data(), raw.size(), options.get(), queue.get());
    rk_ptr<rd_kafka_event_t> ev;
    if (error e = await_result(queue.get(), timeout, "create topics", ev)) return e;
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    return topic_results(results, n, "create topic", RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  }

  // Every topic's metadata (asking for all topics never creates one where auto-creation is on).
  template <class F>
  error read_metadata(milliseconds timeout, F&& each) {
    const rd_kafka_metadata_t* md = nullptr;
    if (auto e = rd_kafka_metadata(_rk.get(), 1, nullptr, &md, static_cast<int>(timeout.count()));
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return from_code(e, "metadata");
    }
    rk_ptr<const rd_kafka_metadata_t> owned(md);
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) each(md->topics[i]);
    }
    return {};
  }

  cluster_target _target;
  std::map<std::string, std::string> _props;
  rk_ptr<rd_kafka_t> _rk;
};

}  // namespace

std::unique_ptr<admin> make_rdkafka_admin(const cluster_target& target,
                                          const std::map<std::string, std::string>& props) {
  return std::make_unique<rdkafka_admin>(target, props);
}

}  // namespace rill::kafka
