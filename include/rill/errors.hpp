// Errors Rill reports to users. Each message names what went wrong and, where there is
// one, the fix.
#pragma once

#include <stdexcept>
#include <string>

namespace rill {

// A base for every error Rill throws, so a service can catch them all in one place.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The topology cannot be built: a name is taken twice, a serde is missing, a sink feeds its
// own subtopology, ... Thrown by streams_builder::build() and by DSL calls that can tell
// at once. The message names the node and the fix.
class topology_error : public error {
 public:
  using error::error;
};

// A setting is unknown or has a value that cannot be used. Thrown when a config is
// constructed or read.
class config_error : public error {
 public:
  using error::error;
};

// A serde could not turn bytes into a value (or a value into bytes). Serdes throw it; the
// runtime catches it at the source or sink and hands it to the configured handler.
class serde_error : public error {
 public:
  using error::error;
};

// A task stopped: a record could not be deserialized or processed and the handler said
// fail, or a user processor threw. The message names the task, the node and the record's
// topic, partition and offset.
class streams_error : public error {
 public:
  using error::error;
};

}  // namespace rill
