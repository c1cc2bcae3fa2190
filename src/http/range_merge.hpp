// Merging the range answers of several instances into one JSON array (simdjson). Internal.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rill::http::detail {

struct range_part {
  std::string instance;
  std::string json;  // a JSON object whose "entries" is an array of {"key":..,"value":..}
};

// The entries of every part in one array, in key order (numbers by value, before strings,
// by their bytes, before anything else, by its JSON text; a window store's entries of one
// key by their window's "start" and "end"), an entry that several parts hold once (the
// earliest part's). A part whose text is not of that shape is left out and named
// in `bad` with the reason.
std::string merge_ranges(const std::vector<range_part>& parts,
                         std::vector<std::pair<std::string, std::string>>& bad);

}  // namespace rill::http::detail
