// Two kinds of Kafka offset that are easy to mix up, kept apart by type: the offset a
// record has (the last one delivered to a changelog, say), and the next offset to read (a
// position: what a checkpoint stores and a restore starts from). The only way from one to the
// other is record_offset::next().
#pragma once

#include <compare>
#include <cstdint>

namespace rill::detail {

struct next_offset {
  std::int64_t value = 0;
  auto operator<=>(const next_offset&) const = default;
};

struct record_offset {
  std::int64_t value = 0;
  next_offset next() const noexcept { return {value + 1}; }
  auto operator<=>(const record_offset&) const = default;
};

}  // namespace rill::detail
