// What happens to a record that cannot be deserialized or processed. Set the built-in
// behaviour in the config (`default.deserialization.exception.handler`,
// `processing.exception.handler`: fail | log_and_continue | dead_letter, the last with
// `errors.dead.letter.queue.topic.name`), or give a function to the app or the test driver.
// Either way no record disappears silently: it fails the task, is logged, or is written to
// the dead-letter topic.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>

#include <rill/bytes.hpp>
#include <rill/headers.hpp>
#include <rill/record.hpp>
#include <rill/task_id.hpp>

namespace rill {

enum class handler_response {
  fail,         // stop the task with an error naming topic, partition and offset
  skip,         // log it and go on with the next record
  dead_letter,  // write the original record to the dead-letter topic, then go on
};

// The failed record as it was consumed, and where it failed.
struct error_context {
  rill::task_id task_id;
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  timestamp_ms timestamp = 0;
  std::optional<bytes_view> key;  // the original bytes
  std::optional<bytes_view> value;
  const rill::headers* headers = nullptr;
  std::string_view node;  // the node that threw; empty for deserialization errors
};

using exception_handler =
    std::function<handler_response(const error_context&, const std::exception&)>;

// Header names on dead-letter records: the first five as Kafka Streams writes them
// (KIP-1034), so the same tooling reads both; the node header is Rill's own.
namespace dead_letter_headers {
inline constexpr std::string_view exception = "__streams.errors.exception";
inline constexpr std::string_view message = "__streams.errors.message";
inline constexpr std::string_view topic = "__streams.errors.topic";
inline constexpr std::string_view partition = "__streams.errors.partition";
inline constexpr std::string_view offset = "__streams.errors.offset";
inline constexpr std::string_view node = "__rill.errors.node";
}  // namespace dead_letter_headers

// Headers Rill adds to a record it sends to late.records.topic (a record that arrived after
// its window closed); the record's own headers are kept.
namespace late_record_headers {
inline constexpr std::string_view node = "rill.late.node";
inline constexpr std::string_view window_start = "rill.late.window.start";
inline constexpr std::string_view window_end = "rill.late.window.end";
inline constexpr std::string_view lateness_ms = "rill.late.lateness.ms";
inline constexpr std::string_view topic = "rill.late.topic";
inline constexpr std::string_view partition = "rill.late.partition";
inline constexpr std::string_view offset = "rill.late.offset";
}  // namespace late_record_headers

}  // namespace rill
