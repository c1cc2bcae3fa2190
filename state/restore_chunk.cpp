#include "state/restore_chunk.hpp"

#include <algorithm>
#include <cstring>

namespace rill::state {

void restore_chunk::add(bytes_view key, std::optional<bytes_view> value) {
  entry e;
  e.prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    e.prefix <<= 8;
    if (i < key.size()) e.prefix |= static_cast<std::uint8_t>(key[i]);
  }
  e.key_at = _data.size();
  e.key_size = static_cast<std::uint32_t>(key.size());
  e.value_size = value ? static_cast<std::uint32_t>(value->size()) : 0;
  e.order = static_cast<std::uint32_t>(_entries.size());
  e.deleted = !value;
  _data.append(reinterpret_cast<const char*>(key.data()), key.size());
  if (value) _data.append(reinterpret_cast<const char*>(value->data()), value->size());
  _entries.push_back(e);
}

void restore_chunk::clear() {
  _data.clear();
  _entries.clear();
}

std::vector<restore_chunk::item> restore_chunk::sorted() {
  auto less = [this](const entry& a, const entry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const bytes_view ka = key_of(a);
    const bytes_view kb = key_of(b);
    const int c = std::memcmp(ka.data(), kb.data(), std::min(ka.size(), kb.size()));
    if (c != 0) return c < 0;
    if (ka.size() != kb.size()) return ka.size() < kb.size();
    return a.order < b.order;
  };
  std::sort(_entries.begin(), _entries.end(), less);
  std::vector<item> out;
  out.reserve(_entries.size());
  for (std::size_t i = 0; i < _entries.size(); ++i) {
    const entry& e = _entries[i];
    const bytes_view key = key_of(e);
    // Equal keys are adjacent, the latest last: keep only that one.
    if (i + 1 < _entries.size()) {
      const bytes_view next = key_of(_entries[i + 1]);
      if (next.size() == key.size() && std::memcmp(next.data(), key.data(), key.size()) == 0)
        continue;
    }
    std::optional<bytes_view> value;
    if (!e.deleted) value = bytes_view(key.data() + key.size(), e.value_size);
    out.push_back({key, value});
  }
  return out;
}

}  // namespace rill::state
