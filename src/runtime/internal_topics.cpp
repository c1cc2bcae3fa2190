#include "src/runtime/internal_topics.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <rill/errors.hpp>

namespace rill::runtime {

namespace {
constexpr std::chrono::seconds admin_timeout{30};

// A repartition topic feeding a join takes the partition count of the join's other inputs
// (those whose count is not free to choose), so that the two sides meet.
struct group_count {
  std::optional<std::int32_t> count;  // none: no other input decides it
  bool waiting = false;               // another input's count is not known yet
};
template <class Count>
group_count copartitioned_count(const detail::compiled_topology& topology,
                                const detail::internal_topic_def& t, Count& count) {
  if (t.type != detail::internal_topic_def::kind::repartition) return {};
  auto free = [&](const detail::topic_ref& r) {
    if (!r.internal) return false;
    const detail::internal_topic_def* d = topology.internal_topic(r.name);
    return d != nullptr && d->type == detail::internal_topic_def::kind::repartition &&
           !d->partitions;
  };
  const detail::topic_ref self{t.name, true};
  group_count out;
  for (const auto& sub : topology.subtopologies) {
    for (const auto& group : sub.copartition_groups) {
      if (std::find(group.begin(), group.end(), self) == group.end()) continue;
      for (const auto& other : group) {
        if (other == self || free(other)) continue;
        const std::optional<std::int32_t> c = count(other);
        if (!c) return {std::nullopt, true};
        out.count = std::max(out.count.value_or(0), *c);
      }
    }
  }
  return out;
}
}  // namespace

std::map<std::string, std::int32_t> internal_partition_counts(
    const detail::compiled_topology& topology, std::string_view application_id,
    const std::function<std::optional<std::int32_t>(const std::string&)>& count_of) {
  std::map<std::string, std::int32_t> out;
  auto count = [&](const detail::topic_ref& t) -> std::optional<std::int32_t> {
    std::string name = detail::resolve_topic(application_id, t);
    if (t.internal) {
      auto it = out.find(name);
      return it == out.end() ? std::nullopt : std::optional(it->second);
    }
    return count_of(name);
  };
  // Internal topics may feed each other; resolve until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : topology.internal_topics) {
      std::string name = detail::resolve_topic(application_id, {t.name, true});
      if (out.contains(name)) continue;
      std::optional<std::int32_t> n = t.partitions;
      if (!n) {
        const group_count g = copartitioned_count(topology, t, count);
        if (g.waiting) continue;
        n = g.count;
      }
      if (!n) {
        bool known = true;
        std::int32_t most = 0;
        for (const auto& src :
             topology.subtopologies.at(static_cast<std::size_t>(t.written_by)).source_topics) {
          if (src.internal && src.name == t.name)
            continue;  // a feedback topic read where it is written
          auto c = count(src);
          if (!c) {
            known = false;
            break;
          }
          most = std::max(most, *c);
        }
        if (!known) continue;
        n = most;
      }
      out[name] = *n;
      changed = true;
    }
  }
  for (const auto& t : topology.internal_topics) {
    std::string name = detail::resolve_topic(application_id, {t.name, true});
    if (!out.contains(name)) {
      throw error(fmt::format(
          "cannot tell how many partitions internal topic '{}' needs: the source topics "
          "of subtopology {} are unknown",
          name, t.written_by));
    }
  }
  return out;
}

void check_copartitioning(const detail::compiled_topology& topology,
                          std::string_view application_id,
                          const std::function<std::int32_t(const std::string&)>& count_of) {
  for (const auto& sub : topology.subtopologies) {
    for (const auto& group : sub.copartition_groups) {
      std::vector<std::string> described;
      bool equal = true;
      std::int32_t first = -1;
      for (const auto& t : group) {
        const std::string name = detail::resolve_topic(application_id, t);
        const std::int32_t n = count_of(name);
        if (first < 0) first = n;
        equal = equal && n == first;
        described.push_back(fmt::format("'{}' ({} partitions)", name, n));
      }
      if (!equal) {
        throw error(fmt::format(
            "co-partitioned topics {} must have the same number of partitions: records with the "
            "same key "
            "would meet in different tasks. Recreate them with equal counts, or repartition one "
            "(repartition({{.partitions = N}})) before the grouping or join",
            fmt::join(described, " and ")));
      }
    }
  }
}

std::int32_t task_count(const detail::subtopology_def& sub, std::string_view application_id,
                        const std::function<std::int32_t(const std::string&)>& count_of) {
  std::int32_t n = 0;
  for (const auto& t : sub.source_topics)
    n = std::max(n, count_of(detail::resolve_topic(application_id, t)));
  return n;
}

namespace {

// The partition counts of user topics the topology reads (`sources`) or writes (sinks named
// in the topology, not chosen per record); throws naming those that do not exist.
std::map<std::string, std::int32_t> user_topic_counts(kafka::admin& admin,
                                                      const detail::compiled_topology& topology,
                                                      const std::string& bootstrap_servers) {
  std::vector<std::string> sources, sinks;
  for (const auto& sub : topology.subtopologies) {
    for (const auto& t : sub.source_topics)
      if (!t.internal) sources.push_back(t.name);
    for (const auto& t : sub.sink_topics)
      if (!t.internal) sinks.push_back(t.name);
  }
  std::vector<std::string> all = sources;
  all.insert(all.end(), sinks.begin(), sinks.end());
  std::map<std::string, std::int32_t> counts;
  if (kafka::error e = admin.partition_counts(all, counts, admin_timeout)) {
    throw error(
        fmt::format("cannot read topic metadata from {}: {}", bootstrap_servers, e.message()));
  }
  auto absent = [&](const std::vector<std::string>& topics) {
    std::vector<std::string> missing;
    for (const auto& t : topics) {
      if (!counts.contains(t) && std::find(missing.begin(), missing.end(), t) == missing.end())
        missing.push_back(t);
    }
    return missing;
  };
  if (auto missing = absent(sources); !missing.empty()) {
    throw error(
        fmt::format("source topic(s) {} do not exist on {}; create them before starting the app",
                    fmt::join(missing, ", "), bootstrap_servers));
  }
  if (auto missing = absent(sinks); !missing.empty()) {
    throw error(fmt::format(
        "sink topic(s) {} do not exist on {}; create them before starting the app (Rill "
        "creates only its internal topics)",
        fmt::join(missing, ", "), bootstrap_servers));
  }
  return counts;
}

// Creates the internal topics; checks those that existed have the partitions needed.
void create_internal_topics(kafka::admin& admin, const detail::compiled_topology& topology,
                            const std::string& application_id,
                            const std::map<std::string, std::int32_t>& internal,
                            std::int32_t replication_factor, std::int64_t extra_retention_ms) {
  if (internal.empty()) return;
  std::vector<kafka::new_topic> to_create;
  for (const auto& [name, n] : internal) {
    auto def = std::find_if(topology.internal_topics.begin(), topology.internal_topics.end(),
                            [&](const auto& t) {
                              return detail::resolve_topic(application_id, {t.name, true}) == name;
                            });
    std::map<std::string, std::string> configs{{"cleanup.policy", "delete"}};
    if (def != topology.internal_topics.end() &&
        def->type == detail::internal_topic_def::kind::changelog) {
      configs["cleanup.policy"] = "compact";
      // Windowed changelogs are also deleted by time, a while after their windows expire.
      if (def->retention_ms > 0) {
        configs["cleanup.policy"] = "compact,delete";
        configs["retention.ms"] = std::to_string(def->retention_ms + extra_retention_ms);
      }
    }
    to_create.push_back({name, n, replication_factor, std::move(configs)});
  }
  if (kafka::error e = admin.create_topics(to_create, admin_timeout))
    throw error(fmt::format("cannot create internal topics: {}", e.message()));
  std::map<std::string, std::int32_t> actual;
  std::vector<std::string> names;
  for (const auto& [name, n] : internal) names.push_back(name);
  if (kafka::error e = admin.partition_counts(names, actual, admin_timeout))
    throw error(e.message());
  for (const auto& [name, n] : internal) {
    auto it = actual.find(name);
    if (it == actual.end()) throw error(fmt::format("internal topic '{}' was not created", name));
    if (it->second != n) {
      throw error(fmt::format(
          "internal topic '{}' has {} partitions but the topology needs {}; delete it or "
          "reset the application (rill reset)",
          name, it->second, n));
    }
  }
}

}  // namespace

std::map<std::string, std::int32_t> prepare_topics(kafka::admin& admin,
                                                   const detail::compiled_topology& topology,
                                                   const std::string& application_id,
                                                   std::int32_t replication_factor,
                                                   const std::string& bootstrap_servers,
                                                   std::int64_t windowed_extra_retention_ms) {
  std::map<std::string, std::int32_t> counts =
      user_topic_counts(admin, topology, bootstrap_servers);
  auto internal = internal_partition_counts(topology, application_id, [&](const std::string& t) {
    auto it = counts.find(t);
    return it == counts.end() ? std::nullopt : std::optional(it->second);
  });
  check_copartitioning(topology, application_id, [&](const std::string& t) {
    if (auto it = counts.find(t); it != counts.end()) return it->second;
    return internal.at(t);
  });
  create_internal_topics(admin, topology, application_id, internal, replication_factor,
                         windowed_extra_retention_ms);
  counts.insert(internal.begin(), internal.end());
  return counts;
}

}  // namespace rill::runtime
