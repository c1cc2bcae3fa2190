// Hears about state restoration (streams_app::set_restore_listener), as Kafka Streams'
// StateRestoreListener. Its own header so the runtime's restorer needs nothing else of the app.
#pragma once

#include <cstdint>
#include <string_view>

#include <rill/task_id.hpp>

namespace rill {

// Hears about state restoration. Called from stream threads, and with
// restore.thread.enabled from their restore threads too, so it must be thread-safe.
// on_restore_start comes from the stream thread; the batches and the end from whichever
// thread restores. A call that blocks holds that restoration (and a revocation of its task).
class restore_listener {
 public:
  virtual ~restore_listener() = default;
  // A store's changelog partition will be replayed from `start` up to `end` (exclusive).
  virtual void on_restore_start(const task_id& task, std::string_view store, std::int64_t start,
                                std::int64_t end) {
    (void)task, (void)store, (void)start, (void)end;
  }
  virtual void on_batch_restored(const task_id& task, std::string_view store,
                                 std::int64_t next_offset, std::uint64_t records) {
    (void)task, (void)store, (void)next_offset, (void)records;
  }
  virtual void on_restore_end(const task_id& task, std::string_view store, std::uint64_t total) {
    (void)task, (void)store, (void)total;
  }
};

}  // namespace rill
