// map_values given a function of the wrong argument type.
// expect: static assertion failed: rill: map_values(f) needs f(V) -> V2 or f(const K&, V) -> V2
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.map_values([](const std::string& v) { return v.size(); }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.map_values([](const std::vector<int>& v) { return v.size(); }).to("out");
#endif
}
