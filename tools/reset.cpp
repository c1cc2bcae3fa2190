#include "tools/reset.hpp"

#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include <rill/config.hpp>
#include <rill/errors.hpp>

#include "src/kafka/client.hpp"
#include "src/runtime/cluster.hpp"
#include "state/state_directory.hpp"

namespace rill::tools {

namespace {

using kafka::partition_offset;
using kafka::topic_partition;
using std::chrono::milliseconds;

void must(const kafka::error& e, std::string_view what) {
  if (e) throw rill::error(fmt::format("{}: {}", what, e.message()));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class resetter {
 public:
  explicit resetter(reset_options o) : _o(std::move(o)) {
    _cluster = runtime::connect_cluster(_o.bootstrap_servers, _o.broker_control);
    _admin = _cluster.clients->make_admin({});
  }

  void run() {
    say(fmt::format("rill reset: application '{}' on {}{}", _o.application_id,
                    _cluster.bootstrap_servers, _o.dry_run ? " (dry run: nothing changes)" : ""));
    std::vector<partition_offset> inputs = input_positions();
    std::vector<std::string> internal = internal_topics();
    reset_internal_topics(internal);
    commit(inputs, "input");
    wipe_local_state();
    say(_o.dry_run ? "rill reset: dry run done; run without --dry-run to reset"
                   : "rill reset: done; the next run of the application starts from scratch");
  }

 private:
  void say(const std::string& line) const { std::cout << line << "\n"; }
  const char* would() const { return _o.dry_run ? "would " : ""; }

  std::map<std::string, std::int32_t> partitions_of(const std::vector<std::string>& topics) {
    std::map<std::string, std::int32_t> counts;
    must(_admin->partition_counts(topics, counts, timeout()), "reading topic metadata");
    for (const auto& t : topics) {
      if (!counts.contains(t))
        throw rill::error(
            fmt::format("topic '{}' does not exist on {}", t, _cluster.bootstrap_servers));
    }
    return counts;
  }

  std::vector<partition_offset> all_partitions(const std::vector<std::string>& topics) {
    std::vector<partition_offset> out;
    for (const auto& [topic, n] : partitions_of(topics)) {
      for (std::int32_t p = 0; p < n; ++p) out.push_back({{topic, p}, 0});
    }
    return out;
  }

  // Where the group restarts on each input partition.
  std::vector<partition_offset> input_positions() {
    std::vector<partition_offset> positions = all_partitions(_o.input_topics);
    if (positions.empty()) return positions;
    std::string how = "earliest";
    if (_o.to_timestamp) {
      for (auto& po : positions) po.offset = *_o.to_timestamp;
      must(_admin->list_offsets(positions, kafka::offset_spec::by_time, timeout()),
           "looking up offsets by time (the embedded broker cannot; use --to-offset)");
      how = fmt::format("first at or after {} ms", *_o.to_timestamp);
    } else if (_o.to_offset) {
      auto low = positions;
      auto high = positions;
      must(_admin->list_offsets(low, kafka::offset_spec::earliest, timeout()), "earliest offsets");
      must(_admin->list_offsets(high, kafka::offset_spec::latest, timeout()), "latest offsets");
      for (std::size_t i = 0; i < positions.size(); ++i)
        positions[i].offset = std::clamp(*_o.to_offset, low[i].offset, high[i].offset);
      how = fmt::format("offset {} (within each partition's range)", *_o.to_offset);
    } else {
      const auto spec = _o.to_latest ? kafka::offset_spec::latest : kafka::offset_spec::earliest;
      must(_admin->list_offsets(positions, spec, timeout()), "looking up offsets");
      how = _o.to_latest ? "latest" : "earliest";
    }
    for (const auto& po : positions)
      say(fmt::format("  input {}: {}move to offset {} ({})", po.tp.to_string(), would(), po.offset,
                      how));
    return positions;
  }

  // `<application.id>-<name>-changelog` / `-repartition` / `-feedback`, and the instances
  // topic of discovery, `<application.id>-instances`.
  std::vector<std::string> internal_topics() {
    std::vector<std::string> all;
    must(_admin->list_topics(all, timeout()), "listing topics");
    std::vector<std::string> out;
    const std::string prefix = _o.application_id + "-";
    for (const auto& t : all) {
      if (t.rfind(prefix, 0) != 0) continue;
      if (ends_with(t, "-changelog") || ends_with(t, "-repartition") || ends_with(t, "-feedback") ||
          t == prefix + "instances")
        out.push_back(t);
    }
    if (out.empty()) say("  internal topics: none");
    return out;
  }

  void reset_internal_topics(const std::vector<std::string>& topics) {
    if (topics.empty()) return;
    kafka::error e;
    if (!_o.dry_run) e = _admin->delete_topics(topics, timeout());
    if (!e && (!_o.dry_run || !embedded())) {
      for (const auto& t : topics)
        say(fmt::format("  internal topic {}: {}", t, _o.dry_run ? "would delete" : "deleted"));
      return;
    }
    if (e && e.type() != kafka::error::kind::unsupported) must(e, "deleting internal topics");
    // The embedded broker keeps its topics: empty them for the next run instead.
    std::vector<std::string> passing;  // repartition and feedback
    for (const auto& t : topics) {
      if (ends_with(t, "-changelog") || ends_with(t, "-instances"))
        tombstone_changelog(t);
      else
        passing.push_back(t);
    }
    std::vector<partition_offset> ends = all_partitions(passing);
    must(_admin->list_offsets(ends, kafka::offset_spec::latest, timeout()), "end offsets");
    for (const auto& po : ends) {
      say(
          fmt::format("  internal {}: {}skip to its end, offset {} (the broker cannot delete "
                      "topics)",
                      po.tp.to_string(), would(), po.offset));
    }
    commit(ends, "internal");
  }

  bool embedded() const { return _cluster.embedded || !_o.broker_control.empty(); }

  // A tombstone for every key whose last record in the changelog is not one, so that a store
  // restored from it ends empty.
  void tombstone_changelog(const std::string& topic) {
    std::vector<partition_offset> parts = all_partitions({topic});
    std::vector<partition_offset> ends = parts;
    must(_admin->list_offsets(ends, kafka::offset_spec::latest, timeout()), "end offsets");
    std::map<topic_partition, std::map<bytes, bool>> live;  // key -> last value not null
    auto consumer = _cluster.clients->make_consumer({{"group.id", "rill-reset-reader"},
                                                     {"enable.auto.commit", "false"},
                                                     {"enable.partition.eof", "false"}});
    for (auto& po : parts) po.offset = -1;  // from the beginning
    must(consumer->assign(parts), "reading " + topic);
    std::set<topic_partition> pending;
    for (const auto& e : ends) {
      if (e.offset > 0) pending.insert(e.tp);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout();
    std::vector<kafka::consumed_record> batch;
    while (!pending.empty()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw rill::error(fmt::format("reading {} took longer than {} ms", topic, _o.timeout_ms));
      batch.clear();
      must(consumer->poll(milliseconds(200), 10000, batch), "reading " + topic);
      for (const auto& r : batch) {
        const topic_partition tp{std::string(r.raw.topic), r.raw.partition};
        if (r.raw.key)
          live[tp][bytes(r.raw.key->begin(), r.raw.key->end())] = r.raw.value.has_value();
      }
      std::erase_if(pending, [&](const topic_partition& tp) {
        const auto end = std::find_if(ends.begin(), ends.end(),
                                      [&](const partition_offset& e) { return e.tp == tp; });
        return consumer->position(tp) >= end->offset;
      });
    }
    std::size_t keys = 0;
    for (const auto& [tp, by_key] : live) {
      for (const auto& [key, alive] : by_key) keys += alive ? 1 : 0;
    }
    say(
        fmt::format("  internal topic {}: {}write {} tombstone(s), one per live key (the broker "
                    "cannot delete topics)",
                    topic, would(), keys));
    if (_o.dry_run || keys == 0) return;
    auto producer = _cluster.clients->make_producer({});
    const auto now = std::chrono::duration_cast<milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    for (const auto& [tp, by_key] : live) {
      for (const auto& [key, alive] : by_key) {
        if (alive)
          must(producer->send(tp.topic, tp.partition, bytes_view(key), std::nullopt, {}, now),
               "writing a tombstone");
      }
    }
    must(producer->flush(timeout()), "writing tombstones");
  }

  void commit(const std::vector<partition_offset>& offsets, std::string_view which) {
    if (offsets.empty() || _o.dry_run) return;
    must(_admin->commit_group_offsets(_o.application_id, offsets, timeout()),
         fmt::format("moving the {} offsets of group '{}' (is the application stopped?)", which,
                     _o.application_id));
  }

  void wipe_local_state() {
    const std::string root = _o.state_dir + "/" + _o.application_id;
    if (_o.dry_run) {
      say(fmt::format("  local state {}: would delete", root));
      return;
    }
    const bool deleted = state::state_directory::wipe(root);
    say(fmt::format("  local state {}: {}", root, deleted ? "deleted" : "none"));
  }

  milliseconds timeout() const { return milliseconds(_o.timeout_ms); }

  reset_options _o;
  runtime::cluster_connection _cluster;
  std::unique_ptr<kafka::admin> _admin;
};

}  // namespace

void add_reset_options(CLI::App& app, reset_options& o) {
  app.add_option("--application-id", o.application_id, "The application to reset")->required();
  auto* servers =
      app.add_option("--bootstrap-servers", o.bootstrap_servers,
                     "The cluster (\"embedded\" is not useful here: it is per process)");
  auto* props = app.add_option("--properties", o.properties,
                               "A file with bootstrap.servers (and broker.control), as rill "
                               "broker --properties writes it")
                    ->check(CLI::ExistingFile);
  servers->excludes(props);
  app.add_option("--broker-control", o.broker_control,
                 "A rill broker's control address, where it is not in --properties");
  app.add_option("--input-topics", o.input_topics, "The application's input topics")
      ->delimiter(',');
  CLI::Option* earliest =
      app.add_flag("--to-earliest")
          ->description("Inputs restart at their earliest offset (the default)");
  CLI::Option* latest = app.add_flag("--to-latest", o.to_latest, "Inputs restart at their end");
  CLI::Option* offset = app.add_option("--to-offset", o.to_offset,
                                       "Inputs restart at this offset (clamped to each partition)")
                            ->check(CLI::NonNegativeNumber);
  CLI::Option* time = app.add_option("--to-timestamp", o.to_timestamp,
                                     "Inputs restart at the first record at or after this time (ms "
                                     "since the epoch)")
                          ->check(CLI::NonNegativeNumber);
  const std::vector<CLI::Option*> starts{earliest, latest, offset, time};
  for (CLI::Option* a : starts) {
    for (CLI::Option* b : starts) {
      if (a != b) a->excludes(b);
    }
  }
  app.add_option("--state-dir", o.state_dir,
                 "The application's state.dir, whose <application-id> folder is deleted "
                 "(default: state.dir's default)");
  app.add_flag("--dry-run", o.dry_run, "Print what would be done; change nothing");
  app.add_option("--timeout-ms", o.timeout_ms, "Bound on each broker call")
      ->check(CLI::PositiveNumber);
}

int run_reset(reset_options o) {
  try {
    if (!o.properties.empty()) {
      const rill::config file = rill::config::from_properties_file(o.properties);
      o.bootstrap_servers = file.get_string("bootstrap.servers");
      if (auto control = file.get("broker.control"); control && o.broker_control.empty())
        o.broker_control = *control;
    }
    if (o.bootstrap_servers.empty()) {
      std::cerr << "rill reset: give --bootstrap-servers or --properties\n";
      return 2;
    }
    if (o.state_dir.empty()) o.state_dir = rill::config{}.get_string("state.dir");
    resetter(std::move(o)).run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "rill reset: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace rill::tools
