// filter given a function that does not return something testable as bool.
// expect: static assertion failed: rill: filter(pred) and filter_not(pred) need pred(const K&,
// const V&) -> bool
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::int64_t>("in");
  s.filter([](const std::string&, std::int64_t v) { return v > 0; }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.filter([](const std::string& k, std::int64_t) { return k; }).to("out");
#endif
}
