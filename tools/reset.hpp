// `rill reset`: the application reset tool Kafka Streams users know. For an application id
// it moves the group's committed offsets on the input topics back (to the earliest, the
// latest, an offset or a time), deletes the internal topics (changelog, repartition,
// feedback: `<application.id>-*`) and the local state directory, so that the next run
// starts from scratch. The app must be stopped. --dry-run prints what it would do.
//
// The embedded broker and rill broker cannot delete topics (librdkafka's mock cluster has no
// DeleteTopics). There the tool empties them instead, to the same effect for the next run:
// a tombstone for every live key of each changelog, and the group's offsets moved to the end
// of each repartition and feedback topic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace rill::tools {

struct reset_options {
  std::string application_id;
  std::string bootstrap_servers;
  std::string broker_control;
  std::string properties;  // bootstrap.servers (and broker.control) from a file
  std::vector<std::string> input_topics;
  bool to_latest = false;
  std::optional<std::int64_t> to_offset;
  std::optional<std::int64_t> to_timestamp;  // ms since the epoch
  std::string state_dir;                     // empty: the default state.dir
  bool dry_run = false;
  std::int64_t timeout_ms = 60000;
};

void add_reset_options(CLI::App& app, reset_options& o);
int run_reset(reset_options o);

}  // namespace rill::tools
