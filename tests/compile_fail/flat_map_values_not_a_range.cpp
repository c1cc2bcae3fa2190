// flat_map_values given a function that returns one value, not a range.
// expect: static assertion failed: rill: flat_map_values(f) needs f(V) or f(const K&, V) returning
// a range of V2
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.flat_map_values([](const std::string& v) { return std::vector<std::string>{v, v}; }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.flat_map_values([](const std::string& v) { return v.size(); }).to("out");
#endif
}
