// The changelogging layer: every write also goes to the store's changelog topic
// (`<application.id>-<store>-changelog`, the task's partition), through an interface the
// runtime implements with its record collector.
#pragma once

#include <memory>
#include <string>

#include <rill/detail/kv_store.hpp>

namespace rill::state {

class changelog_writer {
 public:
  virtual ~changelog_writer() = default;
  // value nullopt: a tombstone.
  virtual void write(const std::string& topic, std::int32_t partition, bytes_view key,
                     std::optional<bytes_view> value) = 0;
};

class logged_store final : public detail::kv_store {
 public:
  logged_store(detail::kv_store& inner, std::string topic, std::int32_t partition,
               changelog_writer& writer)
      : _inner(inner), _topic(std::move(topic)), _partition(partition), _writer(writer) {}

  const std::string& name() const override { return _inner.name(); }
  bool get(bytes_view key, bytes& out) override { return _inner.get(key, out); }
  void put(bytes_view key, bytes_view value) override {
    _inner.put(key, value);
    _writer.write(_topic, _partition, key, value);
  }
  void remove(bytes_view key) override {
    _inner.remove(key);
    _writer.write(_topic, _partition, key, std::nullopt);
  }
  std::unique_ptr<detail::kv_iterator> range(std::optional<bytes_view> from,
                                             std::optional<bytes_view> to) override {
    return _inner.range(from, to);
  }
  std::unique_ptr<detail::kv_iterator> prefix_scan(bytes_view prefix) override {
    return _inner.prefix_scan(prefix);
  }
  std::uint64_t approximate_count() override { return _inner.approximate_count(); }

 private:
  detail::kv_store& _inner;
  std::string _topic;
  std::int32_t _partition;
  changelog_writer& _writer;
};

}  // namespace rill::state
