// The simulated cluster's admin client (clients.cpp makes it with the others).
#include "src/sim/cluster_state.hpp"

namespace rill::sim {

namespace {

class sim_admin final : public kafka::admin {
 public:
  explicit sim_admin(std::shared_ptr<state> s) : _s(std::move(s)) {}
  error create_topics(const std::vector<kafka::new_topic>& topics,
                      std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& t : topics) {
      auto& parts = _s->topics[t.name];
      if (parts.empty()) parts.resize(static_cast<std::size_t>(t.partitions));
    }
    return {};
  }
  error partition_counts(const std::vector<std::string>& topics,
                         std::map<std::string, std::int32_t>& out,
                         std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& t : topics) {
      if (auto it = _s->topics.find(t); it != _s->topics.end())
        out[t] = static_cast<std::int32_t>(it->second.size());
    }
    return {};
  }
  error list_topics(std::vector<std::string>& out, std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& [name, parts] : _s->topics) out.push_back(name);
    return {};
  }
  error delete_topics(const std::vector<std::string>& topics, std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    for (const auto& t : topics) _s->topics.erase(t);
    return {};
  }
  error list_offsets(std::vector<partition_offset>& inout, kafka::offset_spec spec,
                     std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    for (auto& po : inout) {
      const partition_log& l = _s->log(po.tp);
      if (spec == kafka::offset_spec::earliest) {
        po.offset = 0;
      } else if (spec == kafka::offset_spec::latest) {
        po.offset = l.end();
      } else {
        const std::int64_t time = po.offset;
        po.offset = l.end();
        for (std::int64_t o = 0; o < l.end(); ++o) {
          const log_entry& e = l.entries[static_cast<std::size_t>(o)];
          if (e.type == log_entry::kind::data && e.timestamp >= time) {
            po.offset = o;
            break;
          }
        }
      }
    }
    return {};
  }
  error commit_group_offsets(const std::string& group_id,
                             const std::vector<partition_offset>& offsets,
                             std::chrono::milliseconds) override {
    std::lock_guard lock(_s->mutex);
    group& g = _s->groups[group_id];
    if (!g.members.empty()) {
      return {error::kind::fatal, 0,
              fmt::format("group '{}' has {} active member(s); stop them first", group_id,
                          g.members.size())};
    }
    for (const auto& po : offsets) {
      g.committed[po.tp] = po.offset;
      g.metadata[po.tp] = po.metadata;
    }
    return {};
  }

 private:
  std::shared_ptr<state> _s;
};

}  // namespace

std::unique_ptr<kafka::admin> make_admin(std::shared_ptr<state> s) {
  return std::make_unique<sim_admin>(std::move(s));
}

}  // namespace rill::sim
