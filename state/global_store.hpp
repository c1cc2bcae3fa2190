// The store of a global table: every record of its topic, on every instance, written by the
// app's global thread and read by every stream task at once. Thread-safe: a shared mutex
// guards an ordered map (keys as unsigned bytes); a range or prefix read copies what it covers
// under the lock, so a reader never sees a write half done and never holds the lock while
// it iterates. Kept in memory; its topic is its changelog, so nothing else is written.
#pragma once

#include <map>
#include <shared_mutex>
#include <string>

#include <rill/detail/kv_store.hpp>

namespace rill::state {

class global_store final : public detail::kv_store {
 public:
  explicit global_store(std::string name) : _name(std::move(name)) {}

  const std::string& name() const override { return _name; }
  bool get(bytes_view key, bytes& out) override;
  void put(bytes_view key, bytes_view value) override;
  void remove(bytes_view key) override;
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override;
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override;
  std::uint64_t approximate_count() override;

 private:
  std::string _name;
  mutable std::shared_mutex _mutex;
  std::map<std::string, std::string> _map;  // std::string orders as memcmp: unsigned bytes
};

}  // namespace rill::state
