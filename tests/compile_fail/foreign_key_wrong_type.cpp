// A foreign-key join whose extractor does not return the other table's key.
// expect: static assertion failed: rill: table.join(other, foreign_key, joiner) needs
// foreign_key(const V&) -> the other table's key
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto orders = b.table<std::string, std::string>("orders");
  auto customers = b.table<std::string, std::string>("customers");
  orders.join(
      customers, [](const std::string& o) { return o.substr(0, 2); },
      [](const std::string& o, const std::string& c) { return o + c; });
#ifdef RILL_COMPILE_FAIL
  orders.join(
      customers, [](const std::string&) { return std::vector<int>{}; },
      [](const std::string& o, const std::string& c) { return o + c; });
#endif
}
