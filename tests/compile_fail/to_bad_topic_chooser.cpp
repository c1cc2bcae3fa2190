// to() given something that is neither a topic name nor a topic chooser.
// expect: static assertion failed: rill: to(t) needs a topic name, or t(const K&, const V&, const
// rill::record_context&) -> std::string choosing one per record
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.to([](const std::string& k, const std::string&, const rill::record_context&) { return k; });
#ifdef RILL_COMPILE_FAIL
  s.to([](const std::string& k) { return k; });
#endif
}
