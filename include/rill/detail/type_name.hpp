// The readable name of a type, for error messages ("no serde for type 'order'").
#pragma once

#include <string>
#include <string_view>

namespace rill::detail {

template <class T>
constexpr std::string_view raw_type_name() {
  std::string_view f = __PRETTY_FUNCTION__;  // "... raw_type_name() [with T = X; ...]"
  auto start = f.find("T = ");
  if (start == std::string_view::npos) return f;
  start += 4;
  auto end = f.find_first_of(";]", start);
  return f.substr(start, end - start);
}

// The compiler's spelling with the standard library's inline namespaces and default
// arguments tidied away: "std::string", not "std::__cxx11::basic_string<char>".
template <class T>
std::string type_name() {
  std::string s(raw_type_name<T>());
  auto replace_all = [&](std::string_view from, std::string_view to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
      s.replace(pos, from.size(), to);
  };
  replace_all("std::__cxx11::basic_string<char>", "std::string");
  replace_all("std::__cxx11::", "std::");
  replace_all("std::basic_string_view<char>", "std::string_view");
  return s;
}

}  // namespace rill::detail
