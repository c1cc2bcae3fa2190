// Word count, as DESIGN.md writes it: lines in, running counts per word out.
#pragma once

#include <cctype>
#include <string>
#include <vector>

#include <rill/rill.hpp>

namespace word_count {

// Lower-case words of a line (letters and digits; everything else separates).
inline std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string w;
  for (char c : line) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

inline rill::topology topology(const std::string& input = "text-input",
                               const std::string& output = "word-count-output") {
  rill::streams_builder b;
  b.stream<std::string, std::string>(input)
      .flat_map_values([](const std::string& line) { return words(line); })
      .group_by([](const std::string&, const std::string& w) { return w; })
      .count(rill::named("word-counts"))
      .to_stream()
      .to(output);
  return b.build();
}

}  // namespace word_count
