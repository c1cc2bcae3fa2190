// An in-memory ordered key-value store (std::map, keys compared as unsigned bytes). Nothing
// survives the task: an in-memory store restores from the start of its changelog.
#pragma once

#include <map>
#include <string>

#include <rill/detail/kv_store.hpp>

namespace rill::state {

class memory_store final : public detail::kv_store {
 public:
  explicit memory_store(std::string name) : _name(std::move(name)) {}

  const std::string& name() const override { return _name; }
  bool get(bytes_view key, bytes& out) override;
  void put(bytes_view key, bytes_view value) override;
  void remove(bytes_view key) override;
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override;
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override;
  std::uint64_t approximate_count() override { return _map.size(); }
  void drop_range(bytes_view from, bytes_view to) override;
  void clear() { _map.clear(); }

 private:
  std::string _name;
  std::map<std::string, std::string> _map;  // std::string orders as memcmp: unsigned bytes
};

}  // namespace rill::state
