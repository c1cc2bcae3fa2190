// map given a function that returns a plain value instead of a key-value pair.
// expect: static assertion failed: rill: map(f) needs f(const K&, V) -> std::pair<K2, V2> or
// rill::key_value<K2, V2>
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.map([](const std::string& k, const std::string& v) { return std::pair{v, k}; }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.map([](const std::string& k, const std::string&) { return k; }).to("out");
#endif
}
