// foreach given a one-argument function.
// expect: static assertion failed: rill: foreach(f) needs f(const K&, const V&)
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.foreach ([](const std::string&, const std::string&) {});
#ifdef RILL_COMPILE_FAIL
  s.foreach ([](const std::string&) {});
#endif
}
