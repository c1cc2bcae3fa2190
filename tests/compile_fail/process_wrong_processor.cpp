// process() given a processor whose input types do not match the stream.
// expect: static assertion failed: rill: process(s) needs s() -> std::unique_ptr<P>, P derived from
// rill::processor<K, V, KOut, VOut>
#include <rill/streams_builder.hpp>

struct ints : rill::processor<int, int, int, int> {
  void process(rill::record<int, int>) override {}
};
struct strings : rill::processor<std::string, std::string, std::string, std::string> {
  void process(rill::record<std::string, std::string>) override {}
};

int main() {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.process([] { return std::make_unique<strings>(); }).to("ok");
#ifdef RILL_COMPILE_FAIL
  s.process([] { return std::make_unique<ints>(); });
#endif
}
