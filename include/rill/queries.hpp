// Queries of a topology's stores from outside its processing (Kafka Streams' interactive
// queries): read-only views over every local task that holds a store, merged.
//
//   auto counts = driver.key_value_store<std::string, std::int64_t>("word-counts");
//   std::optional<std::int64_t> n = counts.get("the");
//   for (const auto& [word, c] : counts.range("a", "b")) { ... }
//   auto per5 = driver.window_store<std::string, std::int64_t>("views-per-5min");
//   for (const auto& [window, c] : per5.fetch("ann", from_ms, to_ms)) { ... }
//
// A view asks its source (the test driver, or a running app) for the store in each task
// when it is used, so it follows tasks as they come and go. Results are vectors, in key
// order (the serialized keys' byte order, as the stores keep them). A store that does not
// exist, or is not of the asked type, throws rill::invalid_store_error naming it; a store
// that exists but is not queryable now (its tasks moving or restoring) throws
// rill::store_unavailable_error, which is worth retrying.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rill/detail/type_name.hpp>
#include <rill/errors.hpp>
#include <rill/record.hpp>
#include <rill/state_store.hpp>
#include <rill/window.hpp>
#include <rill/window_store.hpp>

namespace rill {

// The store asked for does not exist here or has another type: asking again will not help.
class invalid_store_error : public error {
 public:
  using error::error;
};

// The store exists but cannot be read now (its tasks are migrating or restoring): retry.
class store_unavailable_error : public error {
 public:
  using error::error;
};

// Where a key of a store lives (Kafka Streams' KeyQueryMetadata): the instance, by its
// application.server, whose active task holds the key, and the task's partition.
struct key_metadata {
  std::string host;
  std::uint16_t port = 0;
  std::int32_t partition = 0;
  std::string server() const { return host + ":" + std::to_string(port); }
  bool operator==(const key_metadata&) const = default;
};

// One instance of the app (Kafka Streams' StreamsMetadata): its application.server, the
// source partitions its active tasks read and the stores those tasks hold.
struct instance_metadata {
  struct partition {
    std::string topic;
    std::int32_t number = 0;
    auto operator<=>(const partition&) const = default;
  };
  std::string host;
  std::uint16_t port = 0;
  std::vector<partition> partitions;
  std::vector<std::string> stores;
  std::string server() const { return host + ":" + std::to_string(port); }
};

// A page of the app's own on its HTTP endpoint (streams_app::add_http_page): what GET
// answers, from the request's decoded query parameters.
struct http_page {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};
using http_page_fn = std::function<http_page(const std::map<std::string, std::string>& query)>;

namespace detail {

// Where a view finds a store: calls `f` with the store of each local task that holds it,
// each under whatever guard the source needs. Throws invalid_store_error if no task of the
// topology has a store of that name, store_unavailable_error if none can be read now.
class store_source {
 public:
  virtual ~store_source() = default;
  virtual void for_each(const std::string& store, const std::function<void(state_store&)>& f) = 0;
};

template <class S>
void visit_typed(store_source& source, const std::string& name, const std::string& want,
                 const std::function<void(S&)>& f) {
  source.for_each(name, [&](state_store& s) {
    auto* typed = dynamic_cast<S*>(&s);
    if (typed == nullptr)
      throw invalid_store_error("store '" + name + "' is not a " + want + "; it has another type");
    f(*typed);
  });
}

// Entries of several tasks' stores in one key order.
template <class E>
std::vector<E> merged(std::vector<std::pair<bytes, E>> parts, bool reverse = false) {
  std::stable_sort(parts.begin(), parts.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<E> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(std::move(p.second));
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace detail

template <class K, class V>
class read_only_key_value_store {
 public:
  using entry = key_value<K, V>;
  read_only_key_value_store(std::shared_ptr<detail::store_source> source, std::string name)
      : _source(std::move(source)), _name(std::move(name)) {}

  std::optional<V> get(const K& key) const {
    std::optional<V> out;
    visit([&](store& s) {
      if (!out) out = s.get(key);
    });
    return out;
  }
  // Entries with from <= key <= to.
  std::vector<entry> range(const K& from, const K& to) const {
    return collect([&](store& s) { return s.range(from, to); });
  }
  std::vector<entry> reverse_range(const K& from, const K& to) const {
    return collect([&](store& s) { return s.range(from, to); }, true);
  }
  std::vector<entry> all() const {
    return collect([](store& s) { return s.all(); });
  }
  std::vector<entry> prefix_scan(const K& prefix) const {
    return collect([&](store& s) { return s.prefix_scan(prefix); });
  }
  std::uint64_t approximate_count() const {
    std::uint64_t n = 0;
    visit([&](store& s) { n += s.approximate_num_entries(); });
    return n;
  }

 private:
  using store = key_value_store<K, V>;
  void visit(const std::function<void(store&)>& f) const {
    detail::visit_typed<store>(
        *_source, _name,
        "key_value_store<" + detail::type_name<K>() + ", " + detail::type_name<V>() + ">", f);
  }
  template <class Scan>
  std::vector<entry> collect(Scan scan, bool reverse = false) const {
    std::vector<std::pair<bytes, entry>> parts;
    visit([&](store& s) {
      for (const auto& e : scan(s)) {
        bytes k;
        s.key_serde().serialize(e.key, k, {s.access().changelog_topic(), true, nullptr});
        parts.emplace_back(std::move(k), e);
      }
    });
    return detail::merged(std::move(parts), reverse);
  }

  std::shared_ptr<detail::store_source> _source;
  std::string _name;
};

template <class K, class V>
class read_only_window_store {
 public:
  using window_entry = key_value<rill::window, V>;
  using windowed_entry = key_value<windowed<K>, V>;
  read_only_window_store(std::shared_ptr<detail::store_source> source, std::string name)
      : _source(std::move(source)), _name(std::move(name)) {}

  // The windows of `key` starting in [from, to], by start.
  std::vector<window_entry> fetch(const K& key, timestamp_ms from, timestamp_ms to) const {
    std::vector<window_entry> out;
    visit([&](store& s) {
      for (const auto& e : s.fetch(key, from, to)) out.push_back(e);
    });
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.key.start < b.key.start; });
    return out;
  }
  // Every key's windows starting in [from, to], by key, then start.
  std::vector<windowed_entry> fetch_all(timestamp_ms from, timestamp_ms to) const {
    std::vector<std::pair<bytes, windowed_entry>> parts;
    visit([&](store& s) {
      for (const auto& e : s.fetch_all(from, to)) parts.emplace_back(order_key(s, e.key), e);
    });
    return detail::merged(std::move(parts));
  }
  std::vector<windowed_entry> all() const { return fetch_all(0, detail::max_time); }

 private:
  using store = window_store<K, V>;
  static bytes order_key(store& s, const windowed<K>& w) {
    bytes k;
    s.key_serde().serialize(w.key, k, {s.access().changelog_topic(), true, nullptr});
    detail::append_be64(k, w.window.start);
    return k;
  }
  void visit(const std::function<void(store&)>& f) const {
    detail::visit_typed<store>(
        *_source, _name,
        "window_store<" + detail::type_name<K>() + ", " + detail::type_name<V>() + ">", f);
  }
  std::shared_ptr<detail::store_source> _source;
  std::string _name;
};

template <class K, class V>
class read_only_session_store {
 public:
  using session_entry = key_value<windowed<K>, V>;
  read_only_session_store(std::shared_ptr<detail::store_source> source, std::string name)
      : _source(std::move(source)), _name(std::move(name)) {}

  // Every session of `key`, by end.
  std::vector<session_entry> fetch(const K& key) const {
    std::vector<session_entry> out;
    visit([&](store& s) {
      for (const auto& e : s.fetch(key)) out.push_back(e);
    });
    return out;
  }

 private:
  using store = session_store<K, V>;
  void visit(const std::function<void(store&)>& f) const {
    detail::visit_typed<store>(
        *_source, _name,
        "session_store<" + detail::type_name<K>() + ", " + detail::type_name<V>() + ">", f);
  }
  std::shared_ptr<detail::store_source> _source;
  std::string _name;
};

namespace detail {

// The query methods of whatever has a store_source() (an app, the test driver).
template <class Owner>
class store_queries {
 public:
  template <class K, class V>
  read_only_key_value_store<K, V> key_value_store(std::string name) {
    return {self().store_source(), std::move(name)};
  }
  template <class K, class V>
  read_only_window_store<K, V> window_store(std::string name) {
    return {self().store_source(), std::move(name)};
  }
  template <class K, class V>
  read_only_session_store<K, V> session_store(std::string name) {
    return {self().store_source(), std::move(name)};
  }

 private:
  Owner& self() { return static_cast<Owner&>(*this); }
};

}  // namespace detail

}  // namespace rill
