// Rill against clients it shares no code with: kcat (librdkafka's CLI) and kafka-python
// (pure Python). Each writes the input of a running app and reads its output.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include <rill/rill.hpp>

#include "src/runtime/partitioner.hpp"
#include "harness.hpp"

using namespace rill::test;

namespace {

rill::topology shout(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .map_values([](std::string v) {
        for (char& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        return v;
      })
      .to(out);
  return b.build();
}

}  // namespace

TEST(interop, kcat_writes_the_input_and_reads_the_output) {
  cluster c;
  const std::string in = unique("kcat-in");
  const std::string out = unique("kcat-out");
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  rill::streams_app app(shout(in, out), c.app_config(unique("kcat")));
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  const std::string input = "/tmp/" + in + ".txt";
  {
    std::ofstream f(input);
    for (int i = 0; i < 50; ++i) f << "key" << i << ":hello " << i << "\n";
  }
  ASSERT_EQ(std::system(("kcat -P -b " + c.bootstrap() + " -t " + in + " -K: -l " + input).c_str()),
            0);
  std::string got;
  ASSERT_TRUE(wait_for(
      [&] {
        got = run_output("kcat -C -b " + c.bootstrap() + " -t " + out +
                         " -e -q -f '%k=%s|%p\\n' 2>/dev/null");
        return std::count(got.begin(), got.end(), '\n') >= 50;
      },
      60s, 500ms))
      << got;
  for (int i = 0; i < 50; ++i) {
    const std::string key = "key" + std::to_string(i);
    // Rill wrote each record to the partition Kafka's default partitioner picks for its key.
    const std::string line =
        key + "=HELLO " + std::to_string(i) + "|" +
        std::to_string(rill::runtime::default_partition(rill::as_bytes(key), 2)) + "\n";
    EXPECT_NE(got.find(line), std::string::npos) << line;
  }
  app.close();
}

TEST(interop, kafka_python_writes_the_input_and_reads_the_output) {
  cluster c;
  const std::string in = unique("py-in");
  const std::string out = unique("py-out");
  c.create_topic(in, 4);
  c.create_topic(out, 4);
  rill::streams_app app(shout(in, out), c.app_config(unique("py")));
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  // The script produces 100 keyed records, checks each landed where Rill's murmur2 says,
  // reads the app's output back and checks it; exit code 0 when all holds.
  const std::string cmd = std::string("/usr/bin/python3 ") + PYTHON_CLIENT_SCRIPT + " " +
                          c.bootstrap() + " " + in + " " + out + " 100 2>&1";
  std::string output = run_output(cmd + "; echo exit=$?");
  EXPECT_NE(output.find("exit=0"), std::string::npos) << output;
  EXPECT_NE(output.find("read 100 records, all as expected"), std::string::npos) << output;
  app.close();
}

TEST(interop, rill_broker_serves_separate_service_processes_and_kcat) {
  const std::string dir = "/tmp/" + unique("rill-broker");
  const std::string props = dir + ".properties";
  process broker(RILL_BROKER_PATH, {"--properties", props}, dir + "-broker.log");
  ASSERT_TRUE(wait_for([&] { return std::ifstream(props).good(); }, 30s))
      << "rill-broker wrote no properties";
  const rill::config file = rill::config::from_properties_file(props);
  { std::ofstream(props, std::ios::app) << "consumer.session.timeout.ms=6000\n"; }
  const std::string router = EVENT_ROUTER_PATH;
  // Generate, serve in another process, check from a third: all through rill-broker.
  process generate(router, {"generate", "--properties", props, "--events", "2000"},
                   dir + "-generate.log");
  ASSERT_EQ(generate.wait(60s), 0);
  process service(router, {"service", "--properties", props, "--application-id", unique("rb")},
                  dir + "-service.log");
  process check(router,
                {"check", "--properties", props, "--events", "2000", "--timeout-ms", "60000"},
                dir + "-check.log");
  EXPECT_EQ(check.wait(90s), 0);
  std::ifstream log(dir + "-check.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("check: OK"), std::string::npos) << text;
  // kcat sees the service's topics on the same broker.
  std::string listing = run_output("kcat -L -b " + file.get_string("bootstrap.servers") + " 2>&1");
  EXPECT_NE(listing.find("topic \"events-click\""), std::string::npos) << listing;
  service.kill(SIGTERM);
  EXPECT_EQ(service.wait(60s), 0);
  broker.kill(SIGTERM);
  EXPECT_EQ(broker.wait(30s), 0);
}
