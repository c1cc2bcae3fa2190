// A stream-stream join given a joiner that takes neither (V, VO) nor (K, V, VO).
// expect: static assertion failed: rill: stream.join(other_stream, joiner, window) needs
// joiner(const V&, const VO&) or joiner(const K&, const V&, const VO&)
#include <rill/streams_builder.hpp>

int main() {
  using namespace std::chrono_literals;
  rill::streams_builder b;
  auto l = b.stream<std::string, std::string>("l");
  auto r = b.stream<std::string, int>("r");
  l.join(
       r, [](const std::string& v, int n) { return v + std::to_string(n); }, rill::join_window(1s))
      .to("ok");
#ifdef RILL_COMPILE_FAIL
  l.join(
       r, [](const std::vector<int>&, int) { return 1; }, rill::join_window(1s))
      .to("out");
#endif
}
