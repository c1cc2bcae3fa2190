// Where Rill's log lines go, and how many of them (docs/operations.md, "Logging").
//
// Rill logs through a logger of its own named `rill`, one per process, that writes to stderr
// by default. It never touches spdlog's registry, global level or default logger, so a host
// that logs through spdlog keeps its own settings. A host takes Rill's lines with
// set_log_sink(); <rill/spdlog_sink.hpp> hands them to a spdlog logger or sink of the host's.
//
//   rill::set_log_sink([](rill::log_level level, std::string_view line) { ... });
//   rill::set_log_level(rill::log_level::debug);  // or log.level in an app's config
//
// Every function here is thread-safe and process-wide: the settings apply to every app,
// driver and client of the process, and to lines already being written from other threads
// only from their next line on.
#pragma once

#include <functional>
#include <string_view>

namespace rill {

enum class log_level { trace, debug, info, warn, error, off };

// text: `msg="task created" app=orders thread=1 task=0_3` (logfmt); json: one object per line
// with the fields time, level, logger and message followed by the line's own fields.
enum class log_format { text, json };

// Receives each of Rill's log lines at or above the level set, one line at a time (never two
// calls at once), on whichever thread logs. `line` is the message and its fields with
// log_format::text (the host adds time and level as it likes), or a whole JSON object with
// log_format::json. The sink must not call set_log_sink() itself.
using log_sink = std::function<void(log_level level, std::string_view line)>;

// Sends Rill's lines to `sink` instead of stderr; an empty sink restores stderr, where each
// text line starts with `time=... level=... logger=rill`.
void set_log_sink(log_sink sink);
// Rill's level (default info). A streams_app whose config sets log.level sets it too.
void set_log_level(log_level level);
log_level get_log_level() noexcept;
// Rill's line format (default text). A streams_app whose config sets log.format sets it too.
void set_log_format(log_format format);
log_format get_log_format() noexcept;

}  // namespace rill
