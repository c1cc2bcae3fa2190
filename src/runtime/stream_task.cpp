#include "src/runtime/stream_task.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <typeinfo>

#include <fmt/format.h>

#include <rill/config.hpp>
#include <rill/errors.hpp>
#include <rill/tracing.hpp>

#include "src/runtime/global_state.hpp"
#include "src/runtime/logging.hpp"

namespace rill::runtime {

namespace {

handler_response parse_handler(const std::string& v) {
  if (v == "log_and_continue") return handler_response::skip;
  if (v == "dead_letter") return handler_response::dead_letter;
  return handler_response::fail;
}

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

std::string describe_record(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  return fmt::format("topic '{}' partition {} offset {}", topic, partition, offset);
}

}  // namespace

error_policy error_policy::from_config(const rill::config& cfg) {
  error_policy p;
  p.on_deserialization = parse_handler(cfg.get_string(cfg::deserialization_handler));
  p.on_processing = parse_handler(cfg.get_string(cfg::processing_handler));
  p.dead_letter_topic = cfg.get(cfg::dead_letter_topic).value_or("");
  if ((p.on_deserialization == handler_response::dead_letter ||
       p.on_processing == handler_response::dead_letter) &&
      p.dead_letter_topic.empty()) {
    throw config_error(
        fmt::format("a handler is set to dead_letter but '{}' is not set; name the "
                    "dead-letter topic",
                    cfg::dead_letter_topic));
  }
  return p;
}

window_policy window_policy::from_config(const rill::config& cfg) {
  window_policy p;
  p.close_idle_ms = cfg.get_int(cfg::window_close_idle_ms);
  p.late_records_topic = cfg.get(cfg::late_records_topic).value_or("");
  return p;
}

stream_task::stream_task(task_id id, const detail::compiled_topology& topology,
                         task_settings settings, detail::record_sender& sender)
    : _id(id),
      _settings(std::move(settings)),
      _log(_settings.log.with("task", id)),
      _sender(sender),
      _topology(topology) {
  const auto& sub = topology.subtopologies.at(static_cast<std::size_t>(id.subtopology));
  std::vector<int> position(topology.nodes.size(), -1);
  for (int i : sub.nodes) {
    const detail::compiled_node& cn = topology.node(i);
    detail::node_args args{cn.name, {}};
    for (const auto& t : cn.topics)
      args.topics.push_back(detail::resolve_topic(_settings.application_id, t));
    position[static_cast<std::size_t>(i)] = static_cast<int>(_nodes.size());
    _nodes.push_back(cn.factory(args));
    _node_stores.push_back(cn.stores);
    if (cn.kind == detail::node_kind::source) {
      auto* source = dynamic_cast<detail::source_node*>(_nodes.back().get());
      for (const auto& t : args.topics) {
        _inputs.push_back({t, id.partition});
        _queues.emplace_back().source = source;
      }
    }
  }
  for (int i : sub.nodes) {
    detail::node& parent = *_nodes[static_cast<std::size_t>(position[static_cast<std::size_t>(i)])];
    for (int c : topology.node(i).children) {
      parent.add_child(*_nodes[static_cast<std::size_t>(position[static_cast<std::size_t>(c)])]);
    }
  }
}

stream_task::~stream_task() = default;

void stream_task::initialize() {
  if (_initialized) return;
  _initialized = true;
  for (auto it = _nodes.rbegin(); it != _nodes.rend(); ++it) {
    try {
      (*it)->init(*this);
    } catch (const detail::user_code_error& e) {
      throw streams_error(fmt::format("task {}: node '{}' failed in init: {}", _id.to_string(),
                                      e.node(), e.what()));
    }
  }
}

void stream_task::close(bool clean) {
  if (_closed) return;
  _closed = true;
  if (_initialized) {
    for (auto& n : _nodes) {
      try {
        n->close();
      } catch (const std::exception& e) {
        _log.error("node failed in close", kv("node", n->name()), kv("error", e.what()));
      }
    }
  }
  if (_stores) _stores->close(clean);
}

bool stream_task::open_state(const state_services& services) {
  if (_stores) return true;
  _globals = services.globals;
  try {
    _stores = std::make_unique<task_stores>(_id, _topology, services, _sender,
                                            task_time{&_current, &_stream_time, &_now}, true);
  } catch (const task_locked& e) {
    _log.debug("state directory still held; trying again later", kv("reason", e.what()));
    return false;
  }
  return true;
}

state_store& stream_task::get_store(std::string_view name, const detail::node& asker) {
  for (std::size_t i = 0; i < _nodes.size(); ++i) {
    if (_nodes[i].get() != &asker) continue;
    const auto& connected = _node_stores[i];
    if (std::find(connected.begin(), connected.end(), name) == connected.end()) {
      throw streams_error(
          fmt::format("node '{}' asked for store '{}', which is not connected to it; connect it "
                      "when adding the processor (process(supplier, named, {{\"{}\"}}))",
                      asker.name(), name, name));
    }
    state_store* s = _stores ? _stores->facade(name) : nullptr;
    if (s == nullptr) s = global_facade(name);
    if (s == nullptr)
      throw streams_error(fmt::format("task {}: store '{}' is not open", _id.to_string(), name));
    return *s;
  }
  throw streams_error(fmt::format("task {}: unknown node '{}'", _id.to_string(), asker.name()));
}

state_store* stream_task::global_facade(std::string_view name) {
  if (_globals == nullptr) return nullptr;
  auto it = _global_facades.find(name);
  if (it == _global_facades.end()) {
    std::unique_ptr<state_store> f = _globals->facade(name);
    if (!f) return nullptr;
    it = _global_facades.emplace(std::string(name), std::move(f)).first;
  }
  return it->second.get();
}

void stream_task::flush_caches() {
  if (!_stores) return;
  try {
    _stores->flush_caches();
  } catch (const detail::user_code_error& e) {
    on_processing_error(nullptr, e);
  }
}

void stream_task::commit_state(const delivered_offsets& delivered) {
  if (_stores) _stores->commit(delivered);
}

int stream_task::input_index(std::string_view topic, std::int32_t partition) const {
  for (std::size_t i = 0; i < _inputs.size(); ++i) {
    if (_inputs[i].partition == partition && _inputs[i].topic == topic) return static_cast<int>(i);
  }
  return -1;
}

void stream_task::add_record(std::size_t input, consumed_record&& r) {
  r.raw.topic = _inputs[input].topic;
  r.raw.partition = _inputs[input].partition;
  _queues[input].records.push_back(std::move(r));
}

std::size_t stream_task::buffered() const {
  std::size_t n = 0;
  for (const auto& q : _queues) n += q.records.size();
  return n;
}

bool stream_task::ready(timestamp_ms now, bool enforce,
                        const std::function<bool(std::size_t)>& caught_up) {
  _now = now;
  bool any = false;
  bool must_wait = false;
  for (std::size_t i = 0; i < _queues.size(); ++i) {
    if (!_queues[i].records.empty()) {
      any = true;
    } else if (!caught_up || !caught_up(i)) {
      must_wait = true;
    }
  }
  if (!any) return false;
  if (!must_wait || enforce || _settings.max_task_idle_ms < 0) {
    _idle_since = -1;
    if (must_wait) ++_counters.enforced;
    return true;
  }
  // An input is empty but may have records on the broker: wait up to max.task.idle.ms for
  // them, so records of a slower partition are not overtaken by later ones of a faster one.
  if (_idle_since < 0) _idle_since = now;
  if (now - _idle_since < _settings.max_task_idle_ms) return false;
  ++_counters.enforced;
  return true;
}

bool stream_task::process_next() {
  input_queue* next = nullptr;
  for (auto& q : _queues) {
    if (q.records.empty()) continue;
    if (next == nullptr || q.records.front().raw.timestamp < next->records.front().raw.timestamp) {
      next = &q;
    }
  }
  if (next == nullptr) return false;

  // Processed where it lies in the queue (no move out and back), dropped however it ends.
  struct drop_front_at_exit {
    ring_buffer<consumed_record>& q;
    ~drop_front_at_exit() { q.drop_front(); }
  } drop{next->records};
  detail::raw_record& raw = next->records.front().raw;
  if (raw.timestamp < _stream_time) {
    const std::int64_t lateness = _stream_time - raw.timestamp;
    _counters.lateness_sum += lateness;
    _counters.lateness_max = std::max(_counters.lateness_max, lateness);
  }
  _stream_time = std::max(_stream_time, raw.timestamp);
  _current = record_context{raw.topic, raw.partition, raw.offset, raw.timestamp, &raw.headers};
  _current_raw = &raw;
  _late_routed = false;
  _traced = false;
  try {
    if (_settings.trace) [[unlikely]] {
      trace(raw, *next->source);
    }
    next->source->process_raw(raw);
  } catch (const detail::user_code_error& e) {
    on_processing_error(&raw, e);
  }
  _current_raw = nullptr;
  next->consumed_offset = raw.offset + 1;
  ++_counters.processed;
  _current = record_context{};
  return true;
}

void stream_task::trace(detail::raw_record& raw, const detail::node& source) {
  _consumed_headers = raw.headers;  // assigned: a warm task reuses the strings
  _traced = true;
  try {
    detail::apply_trace_hook(
        _settings.trace, {_id, source.name(), raw.topic, raw.partition, raw.offset, raw.timestamp},
        raw.headers);
  } catch (...) {
    detail::rethrow_as_user_error(source.name());
  }
}

void stream_task::sink_meter::send(std::string_view topic, std::int32_t partition,
                                   std::optional<bytes_view> key, std::optional<bytes_view> value,
                                   const rill::headers& headers, timestamp_ms timestamp) {
  task._sender.send(topic, partition, key, value, headers, timestamp);
  // Most sends go to the topic of the one before.
  if (last == nullptr || !detail::same_topic(last->topic, topic)) {
    last = nullptr;
    for (auto& candidate : stats)
      if (candidate.topic == topic) last = &candidate;
    if (last == nullptr) {
      stats.push_back(sink_stats{std::string(topic), {}});
      last = &stats.back();  // growth moves the entries; `last` is always set anew after it
    }
  }
  last->e2e.add(std::max<std::int64_t>(task._now - timestamp, 0));
}

std::vector<store_stats> stream_task::store_figures() const {
  return _stores ? _stores->stats() : std::vector<store_stats>{};
}

void stream_task::restart_recent_max() {
  for (auto& s : _sinks.stats) s.e2e.recent_max = 0;
  if (_stores) _stores->restart_recent_max();
}

bool stream_task::run_stream_time_punctuations() {
  return _stream_time_punctuations.run_due(
      _stream_time,
      [this](detail::node& n, const auto& fn, timestamp_ms now) { invoke_punctuator(n, fn, now); });
}

bool stream_task::punctuate_wall_clock(timestamp_ms now) {
  return _wall_clock_punctuations.run_due(
      now,
      [this](detail::node& n, const auto& fn, timestamp_ms t) { invoke_punctuator(n, fn, t); });
}

void stream_task::invoke_punctuator(detail::node& owner,
                                    const std::function<void(timestamp_ms)>& fn, timestamp_ms now) {
  _current = record_context{};
  ++_counters.punctuations;
  try {
    try {
      fn(now);
    } catch (...) {
      detail::rethrow_as_user_error(owner.name());
    }
  } catch (const detail::user_code_error& e) {
    on_processing_error(nullptr, e);
  }
}

cancellable stream_task::schedule(std::chrono::milliseconds interval, punctuation_type type,
                                  std::function<void(timestamp_ms)> callback, detail::node& owner) {
  if (type == punctuation_type::stream_time) {
    // Aligned to 0: the first record processed fires it, as in Kafka Streams.
    return _stream_time_punctuations.schedule(0, interval.count(), std::move(callback), owner);
  }
  return _wall_clock_punctuations.schedule(wall_clock_time() + interval.count(), interval.count(),
                                           std::move(callback), owner);
}

namespace {
constexpr std::string_view stream_time_tag = "rill:st=";
}  // namespace

void stream_task::start_from(const std::vector<partition_offset>& committed) {
  for (const auto& po : committed) {
    const int i = input_index(po.tp.topic, po.tp.partition);
    if (i < 0 || po.offset < 0) continue;
    _queues[static_cast<std::size_t>(i)].consumed_offset = po.offset;
    _queues[static_cast<std::size_t>(i)].committed_offset = po.offset;
    // The stream time committed with the offsets: windows close, and late records are
    // judged, as they would have been without the restart.
    if (po.metadata.starts_with(stream_time_tag)) {
      timestamp_ms t = -1;
      const std::string_view digits = std::string_view(po.metadata).substr(stream_time_tag.size());
      if (std::from_chars(digits.data(), digits.data() + digits.size(), t).ec == std::errc())
        _stream_time = std::max(_stream_time, t);
    }
  }
}

std::vector<partition_offset> stream_task::committable_offsets(bool every) const {
  std::vector<partition_offset> out;
  for (std::size_t i = 0; i < _queues.size(); ++i) {
    if (_queues[i].consumed_offset > _queues[i].committed_offset ||
        (every && _queues[i].consumed_offset >= 0)) {
      out.push_back({_inputs[i], _queues[i].consumed_offset,
                     _stream_time < 0
                         ? std::string()
                         : std::string(stream_time_tag) + std::to_string(_stream_time)});
    }
  }
  return out;
}

void stream_task::mark_committed() {
  for (auto& q : _queues) q.committed_offset = q.consumed_offset;
  _commit_requested = false;
}

handler_response stream_task::decide(const exception_handler& custom, handler_response builtin,
                                     const error_context& ctx, const std::exception& e) const {
  if (!custom) return builtin;
  try {
    return custom(ctx, e);
  } catch (const std::exception& inner) {
    throw streams_error(
        fmt::format("task {}: the exception handler itself threw ({}) while "
                    "handling: {}",
                    _id.to_string(), inner.what(), e.what()));
  }
}

error_context stream_task::context_of(const detail::raw_record& r, std::string_view node) const {
  return {.task_id = _id,
          .topic = r.topic,
          .partition = r.partition,
          .offset = r.offset,
          .timestamp = r.timestamp,
          .key = r.key,
          .value = r.value,
          .headers = &consumed_headers(r),
          .node = node};
}

bool stream_task::on_deserialization_error(const detail::raw_record& r, const std::exception& e) {
  const error_context ctx = context_of(r, {});
  const auto& policy = _settings.errors;
  handler_response response =
      decide(policy.custom_deserialization, policy.on_deserialization, ctx, e);
  const std::string where = describe_record(r.topic, r.partition, r.offset);
  switch (response) {
    case handler_response::fail:
      throw streams_error(fmt::format(
          "task {}: cannot deserialize the record at {}: {}. To skip such records set "
          "default.deserialization.exception.handler to log_and_continue or dead_letter",
          _id.to_string(), where, e.what()));
    case handler_response::skip:
      _log.warn("skipped a record that cannot be deserialized", kv("topic", r.topic),
                kv("partition", r.partition), kv("offset", r.offset), kv("error", e.what()));
      ++_counters.skipped;
      return true;
    case handler_response::dead_letter:
      dead_letter(r, {}, e);
      return true;
  }
  return false;
}

void stream_task::on_processing_error(const detail::raw_record* r,
                                      const detail::user_code_error& e) {
  error_context ctx{_id, {}, -1, -1, _stream_time, {}, {}, nullptr, e.node()};
  if (r != nullptr) ctx = context_of(*r, e.node());
  const auto& policy = _settings.errors;
  handler_response response = decide(policy.custom_processing, policy.on_processing, ctx, e);
  const std::string where =
      r != nullptr ? "the record at " + describe_record(r->topic, r->partition, r->offset)
                   : std::string("a punctuation");
  switch (response) {
    case handler_response::fail:
      throw streams_error(
          fmt::format("task {}: node '{}' threw while processing {}: {}. To skip such records set "
                      "processing.exception.handler to log_and_continue or dead_letter",
                      _id.to_string(), e.node(), where, e.what()));
    case handler_response::skip:
      if (r != nullptr) {
        _log.warn("skipped a record: a node threw", kv("node", e.node()), kv("topic", r->topic),
                  kv("partition", r->partition), kv("offset", r->offset), kv("error", e.what()));
      } else {
        _log.warn("skipped a punctuation: a node threw", kv("node", e.node()),
                  kv("error", e.what()));
      }
      ++_counters.skipped;
      return;
    case handler_response::dead_letter:
      if (r == nullptr) {
        _log.warn("a node threw in a punctuation (no record to dead-letter)", kv("node", e.node()),
                  kv("error", e.what()));
        ++_counters.skipped;
        return;
      }
      dead_letter(*r, e.node(), e);
      return;
  }
}

void stream_task::on_late_record(const detail::node& n, timestamp_ms window_start,
                                 timestamp_ms window_end, timestamp_ms lateness) {
  ++_counters.late;
  const detail::raw_record* r = _current_raw;
  const std::string_view topic_read = r != nullptr ? r->topic : std::string_view();
  _log.debug("dropped a late record", kv("node", n.name()), kv("window_start", window_start),
             kv("window_end", window_end), kv("lateness_ms", lateness), kv("topic", topic_read),
             kv("partition", r != nullptr ? r->partition : -1),
             kv("offset", r != nullptr ? r->offset : -1));
  const std::string& topic = _settings.windows.late_records_topic;
  // Once per record, however many of its windows had closed (hopping windows).
  if (topic.empty() || r == nullptr || _late_routed) return;
  _late_routed = true;
  rill::headers h = consumed_headers(*r);
  namespace lh = late_record_headers;
  h.set(std::string(lh::node), n.name());
  h.set(std::string(lh::window_start), std::to_string(window_start));
  h.set(std::string(lh::window_end), std::to_string(window_end));
  h.set(std::string(lh::lateness_ms), std::to_string(lateness));
  h.set(std::string(lh::topic), std::string(r->topic));
  h.set(std::string(lh::partition), std::to_string(r->partition));
  h.set(std::string(lh::offset), std::to_string(r->offset));
  _sender.send(topic, -1, r->key, r->value, h, r->timestamp);
}

void stream_task::dead_letter(const detail::raw_record& r, std::string_view node,
                              const std::exception& e) {
  const std::string& topic = _settings.errors.dead_letter_topic;
  if (topic.empty()) {
    throw streams_error(fmt::format("task {}: a handler chose dead_letter but '{}' is not set",
                                    _id.to_string(), cfg::dead_letter_topic));
  }
  rill::headers h = consumed_headers(r);
  namespace dh = dead_letter_headers;
  const auto* user = dynamic_cast<const detail::user_code_error*>(&e);
  h.set(std::string(dh::exception),
        demangle(user != nullptr ? user->type().c_str() : typeid(e).name()));
  h.set(std::string(dh::message), std::string(e.what()));
  h.set(std::string(dh::topic), std::string(r.topic));
  h.set(std::string(dh::partition), std::to_string(r.partition));
  h.set(std::string(dh::offset), std::to_string(r.offset));
  if (!node.empty()) h.set(std::string(dh::node), std::string(node));
  _sender.send(topic, -1, r.key, r.value, h, r.timestamp);
  _log.warn("sent a record to the dead-letter topic", kv("dead_letter_topic", topic),
            kv("topic", r.topic), kv("partition", r.partition), kv("offset", r.offset),
            kv("node", node), kv("error", e.what()));
  ++_counters.skipped;
  ++_counters.dead_lettered;
}

}  // namespace rill::runtime
