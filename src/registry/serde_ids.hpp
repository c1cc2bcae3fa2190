// Which schema id a serializer writes under, per subject: looked up, registered or the
// latest, as the settings say, and then remembered for the serde's lifetime.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

#include <rill/registry.hpp>
#include <rill/serde.hpp>

namespace rill::registry::detail {

class subject_ids {
 public:
  explicit subject_ids(std::shared_ptr<client> reg) : _registry(std::move(reg)) {}

  int id_for(const serde_context& ctx, const std::string& record, const schema& s) {
    {  // the per-record path: no allocation
      std::shared_lock lock(_mutex);
      if (auto it = _ids.find(topic_key{ctx.topic, ctx.is_key}); it != _ids.end())
        return it->second;
    }
    const settings& cfg = _registry->config();
    const std::string subject = subject_name(ctx.is_key ? cfg.key_strategy : cfg.value_strategy,
                                             ctx.topic, ctx.is_key, record);
    int id = 0;
    if (cfg.auto_register) {
      id = _registry->register_schema(subject, s);
    } else if (cfg.use_latest_version) {
      id = _registry->by_version(subject, -1).id;
    } else if (auto found = _registry->lookup(subject, s)) {
      id = found->id;
    } else {
      throw registry_error("the schema of " + record + " is not registered under subject '" +
                               subject +
                               "' and auto_register is off; register it (or turn "
                               "auto_register on)",
                           404, 40403);
    }
    std::unique_lock lock(_mutex);
    _ids.emplace(std::pair<std::string, bool>(ctx.topic, ctx.is_key), id);
    return id;
  }

 private:
  // The subject follows from (topic, is_key) for a given serde, so ids are kept by those.
  struct topic_key {
    std::string_view topic;
    bool is_key;
  };
  struct by_topic {
    using is_transparent = void;
    static topic_key view(const topic_key& k) { return k; }
    static topic_key view(const std::pair<std::string, bool>& k) { return {k.first, k.second}; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const topic_key x = view(a), y = view(b);
      return x.is_key != y.is_key ? x.is_key < y.is_key : x.topic < y.topic;
    }
  };
  std::shared_ptr<client> _registry;
  std::shared_mutex _mutex;
  std::map<std::pair<std::string, bool>, int, by_topic> _ids;
};

}  // namespace rill::registry::detail
