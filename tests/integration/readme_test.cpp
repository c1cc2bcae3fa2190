// The README's tour, built from the README itself (tests/CMakeLists.txt), runs: its test
// driver assertions hold, its app starts on the embedded broker and stops on SIGINT.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "harness.hpp"

using namespace rill::test;

TEST(readme, the_tour_runs_and_stops_on_sigint) {
  const std::string log = "/tmp/" + unique("readme-tour") + ".log";
  process tour(README_TOUR_PATH, {}, log);
  auto text = [&] {
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  ASSERT_TRUE(wait_for([&] { return text().find("to=running") != std::string::npos; }, 60s))
      << text();
  tour.kill(SIGINT);
  EXPECT_EQ(tour.wait(60s), 0) << text();
  EXPECT_NE(text().find("from=pending_shutdown to=not_running"), std::string::npos);
}
