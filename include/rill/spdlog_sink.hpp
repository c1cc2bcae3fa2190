// Rill's log lines into a host's spdlog logger or sink (optional; needs spdlog's headers, and
// is compiled in the host's code against the host's spdlog, so no spdlog type crosses into
// the library).
//
//   rill::set_log_sink(rill::spdlog_sink(my_logger));  // through the host's logger: its
//                                                      // pattern, its level as a second filter
//   rill::set_log_sink(rill::spdlog_sink(my_sink));    // a logger named "rill" of its own over
//                                                      // the host's sink; Rill's level filters
//
// Neither registers anything with spdlog nor changes the host's loggers or levels.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include <spdlog/logger.h>

#include <rill/logging.hpp>

namespace rill {

inline spdlog::level::level_enum to_spdlog_level(log_level level) {
  switch (level) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      break;
  }
  return spdlog::level::off;
}

inline log_sink spdlog_sink(std::shared_ptr<spdlog::logger> logger) {
  return [logger = std::move(logger)](log_level level, std::string_view line) {
    logger->log(to_spdlog_level(level), spdlog::string_view_t(line.data(), line.size()));
  };
}

inline log_sink spdlog_sink(spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>("rill", std::move(sink));
  logger->set_level(spdlog::level::trace);  // Rill's own level has filtered already
  return spdlog_sink(std::move(logger));
}

}  // namespace rill
