// W3C trace context (https://www.w3.org/TR/trace-context/) on Rill's records.
//
// Without anything set, a record's `traceparent` and `tracestate` headers reach every record
// it causes: stateless chains and repartitions keep all headers; an aggregation's output
// carries the headers of the record that last updated it (also when a cache flush, emit final
// or suppress sends it later); a join's, those of the arriving record that found the match
// (a left or outer join's unmatched record, its own); the dead-letter topic, the failing
// record's (docs/operations.md, "Tracing").
//
// A trace hook (streams_app::set_trace_hook, driver_options::trace) makes each
// processing step a span of its own: a step is one task taking one input record into its
// subtopology; the hook sees the incoming context and returns the one the step's outputs
// carry, e.g. a child span it started with OpenTelemetry. child_span_per_step() does that
// without OpenTelemetry: same trace, a new random span id.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <rill/headers.hpp>
#include <rill/record.hpp>
#include <rill/task_id.hpp>

namespace rill {

namespace trace_headers {
inline constexpr std::string_view traceparent = "traceparent";
inline constexpr std::string_view tracestate = "tracestate";
}  // namespace trace_headers

// A traceparent header's fields: "00-<trace id>-<parent id>-<flags>", ids in lowercase hex.
struct traceparent {
  std::string trace_id;   // 32 hex digits, not all zero
  std::string parent_id;  // 16 hex digits, not all zero: the span that sent the record
  std::uint8_t flags = 0;

  bool sampled() const noexcept { return (flags & 1) != 0; }
  // The same trace, with `span_id` (16 hex digits) as the parent of what follows.
  traceparent child(std::string span_id) const { return {trace_id, std::move(span_id), flags}; }
  std::string to_string() const {
    static constexpr char hex[] = "0123456789abcdef";
    return "00-" + trace_id + "-" + parent_id + "-" + hex[flags >> 4] + hex[flags & 15];
  }
  // Version 00's layout (a later version's first four fields too); nullopt if malformed.
  static std::optional<traceparent> parse(std::string_view s) {
    auto is_hex = [](std::string_view h) {
      return h.find_first_not_of("0123456789abcdef") == std::string_view::npos &&
             h.find_first_not_of('0') != std::string_view::npos;
    };
    if (s.size() < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') return std::nullopt;
    if (s.substr(0, 2) == "ff" ||
        s.substr(0, 2).find_first_not_of("0123456789abcdef") != std::string_view::npos)
      return std::nullopt;
    if (s.substr(0, 2) == "00" ? s.size() != 55 : (s.size() > 55 && s[55] != '-'))
      return std::nullopt;
    const std::string_view trace = s.substr(3, 32);
    const std::string_view parent = s.substr(36, 16);
    const std::string_view flags = s.substr(53, 2);
    if (!is_hex(trace) || !is_hex(parent) ||
        flags.find_first_not_of("0123456789abcdef") != std::string_view::npos)
      return std::nullopt;
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    return traceparent{std::string(trace), std::string(parent),
                       static_cast<std::uint8_t>(nibble(flags[0]) * 16 + nibble(flags[1]))};
  }
};

// One processing step, as a trace hook sees it: a task taking an input record.
struct trace_step {
  rill::task_id task;
  std::string_view node;  // the source node that reads it
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  timestamp_ms timestamp = 0;
  std::optional<std::string_view> traceparent;  // the record's, as it came (maybe malformed)
  std::optional<std::string_view> tracestate;
};

// The context a step's outputs carry.
struct trace_context {
  std::string traceparent;  // empty: none (the headers are removed)
  std::string tracestate;   // empty: none
};

// Called once per input record each task processes, as the task hands it to its source
// node; returns the context to put on the record (and so on what it causes), or nullopt to
// keep the record's own. Called from every stream thread at once: make it thread-safe and
// quick. What it throws is a processing error of the source node (the processing exception
// handler decides). Exception handlers, the dead-letter topic and late.records.topic see the
// record's headers as they came, not the hook's.
using trace_hook = std::function<std::optional<trace_context>(const trace_step&)>;

// A hook that gives every step a span of its own without OpenTelemetry: the record's trace
// and flags with a new random span id as the parent of what the step outputs. A record
// without a valid traceparent is left as it is.
inline trace_hook child_span_per_step() {
  return [](const trace_step& step) -> std::optional<trace_context> {
    if (!step.traceparent) return std::nullopt;
    std::optional<traceparent> parent = traceparent::parse(*step.traceparent);
    if (!parent) return std::nullopt;
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::uint64_t id = 0;
    while (id == 0) id = random();
    static constexpr char hex[] = "0123456789abcdef";
    std::string span(16, '0');
    for (int i = 15; i >= 0; --i, id >>= 4) span[static_cast<std::size_t>(i)] = hex[id & 15];
    return trace_context{parent->child(std::move(span)).to_string(),
                         std::string(step.tracestate.value_or(""))};
  };
}

namespace detail {

// Puts what `hook` returns for `step` on the record's headers.
inline void apply_trace_hook(const trace_hook& hook, trace_step step, rill::headers& h) {
  step.traceparent = h.get(trace_headers::traceparent);
  step.tracestate = h.get(trace_headers::tracestate);
  std::optional<trace_context> next = hook(step);
  if (!next) return;
  for (auto [name, value] : {std::pair(trace_headers::traceparent, &next->traceparent),
                             std::pair(trace_headers::tracestate, &next->tracestate)}) {
    if (value->empty())
      h.remove(name);
    else
      h.set(std::string(name), std::move(*value));
  }
}

}  // namespace detail
}  // namespace rill
