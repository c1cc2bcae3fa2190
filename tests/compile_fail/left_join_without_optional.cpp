// A left join whose joiner takes the right side as a plain value: it may be missing.
// expect: static assertion failed: rill: stream.left_join(table, joiner) needs joiner(const
// V&, const std::optional<VT>&) or joiner(const K&, const V&, const std::optional<VT>&)
#include <rill/streams_builder.hpp>

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("s");
  auto t = b.table<std::string, std::string>("t");
  s.left_join(t, [](const std::string& v, const std::optional<std::string>& w) {
     return v + w.value_or("");
   }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.left_join(t, [](const std::string& v, const std::string& w) { return v + w; }).to("out");
#endif
}
