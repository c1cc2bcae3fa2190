// Which schema id a serializer writes under, per subject: looked up, registered or the
// latest, as the settings say, and then remembered for the serde's lifetime.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include <rill/registry.hpp>
#include <rill/serde.hpp>

namespace rill::registry::detail {

class subject_ids {
 public:
  explicit subject_ids(std::shared_ptr<client> reg) : _registry(std::move(reg)) {}

  int id_for(const serde_context& ctx, const std::string& record, const schema& s) {
    const settings& cfg = _registry->config();
    const std::string subject = subject_name(ctx.is_key ? cfg.key_strategy : cfg.value_strategy,
                                             ctx.topic, ctx.is_key, record);
    {
      std::shared_lock lock(_mutex);
      if (auto it = _ids.find(subject); it != _ids.end()) return it->second;
    }
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
    _ids.emplace(subject, id);
    return id;
  }

 private:
  std::shared_ptr<client> _registry;
  std::shared_mutex _mutex;
  std::map<std::string, int> _ids;
};

}  // namespace rill::registry::detail
