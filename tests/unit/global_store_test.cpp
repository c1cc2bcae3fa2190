// The global tables' store: one writer (the global thread) and many readers (stream tasks,
// queries) at once. Readers see each key either absent or with a whole value a writer put,
// and range reads are consistent snapshots. Run under the tsan preset as well.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "state/global_store.hpp"

namespace {

rill::bytes b(const std::string& s) {
  return rill::to_bytes(s);
}

}  // namespace

TEST(global_store, readers_see_whole_values_while_a_writer_writes) {
  rill::state::global_store store("g");
  std::atomic<bool> done{false};
  std::atomic<long> torn{0}, reads{0};
  // Each value is one letter repeated: a torn read would mix two values' letters.
  auto value_of = [](int n) {
    return std::string(static_cast<std::size_t>(8 + n % 50), char('a' + n % 26));
  };
  std::thread writer([&] {
    for (int n = 0; n < 20000; ++n) {
      const std::string key = "k" + std::to_string(n % 64);
      if (n % 7 == 0)
        store.remove(b(key));
      else
        store.put(b(key), b(value_of(n)));
    }
    done.store(true);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      rill::bytes out;
      while (!done.load()) {
        for (int k = 0; k < 64; ++k) {
          if (store.get(b("k" + std::to_string(k)), out)) {
            const auto chars = rill::as_chars(out);
            if (chars.find_first_not_of(chars[0]) != std::string_view::npos) ++torn;
          }
          ++reads;
        }
        std::size_t n = 0;
        for (auto it = store.range(std::nullopt, std::nullopt); it->valid(); it->next()) ++n;
        if (n > 64) ++torn;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_LE(store.approximate_count(), 64U);
}
