#include "src/runtime/internal_topics.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <rill/errors.hpp>

namespace rill::runtime {

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

}  // namespace rill::runtime
