// rill::config: Kafka Streams names, checked when set, from files and the environment.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <rill/config.hpp>

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rill::config_error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(config, defaults_and_values) {
  rill::config c{{"application.id", "orders"}, {"num.stream.threads", "4"}};
  EXPECT_EQ(c.get_string("application.id"), "orders");
  EXPECT_EQ(c.get_int("num.stream.threads"), 4);
  EXPECT_EQ(c.get_string("processing.guarantee"), "at_least_once");
  EXPECT_EQ(c.get_string("bootstrap.servers"), "embedded");
  EXPECT_FALSE(c.get("commit.interval.ms").has_value()) << "resolved by the guarantee";
}

TEST(config, unknown_keys_fail_with_a_suggestion) {
  EXPECT_EQ(error_of([] {
              rill::config c{{"comit.interval.ms", "5"}};
            }),
            "unknown setting 'comit.interval.ms' (did you mean 'commit.interval.ms'?); librdkafka "
            "properties take a 'consumer.', 'producer.' or 'admin.' prefix");
  EXPECT_EQ(error_of([] {
              rill::config c{{"fetch.wait.max.ms", "5"}};
            }).substr(0, 36),
            "unknown setting 'fetch.wait.max.ms';");
}

TEST(config, bad_values_name_the_setting_and_what_is_allowed) {
  EXPECT_EQ(error_of([] {
              rill::config c{{"num.stream.threads", "0"}};
            }),
            "setting 'num.stream.threads' must be an integer >= 1, got '0'");
  EXPECT_EQ(error_of([] {
              rill::config c{{"commit.interval.ms", "soon"}};
            }),
            "setting 'commit.interval.ms' must be an integer >= 0, got 'soon'");
  EXPECT_EQ(error_of([] {
              rill::config c{{"processing.guarantee", "exactly_once"}};
            }),
            "setting 'processing.guarantee' must be one of at_least_once, exactly_once_v2, got "
            "'exactly_once'");
  for (const char* bad : {"localhost", "localhost:http", ":8080", "host:70000", "host:-1"}) {
    EXPECT_EQ(error_of([&] {
                rill::config c{{"application.server", bad}};
              }),
              std::string("setting 'application.server' must be host:port (port 0-65535; 0 "
                          "picks a free one), got '") +
                  bad + "'");
  }
  EXPECT_NO_THROW((rill::config{{"application.server", "10.0.0.7:8080"}}));
  EXPECT_NO_THROW((rill::config{{"application.server", "[::1]:0"}}));
}

TEST(config, librdkafka_properties_pass_through_with_prefixes) {
  rill::config c{{"consumer.fetch.wait.max.ms", "10"}, {"producer.linger.ms", "5"}};
  auto consumer = c.with_prefix("consumer.");
  ASSERT_EQ(consumer.size(), 1u);
  EXPECT_EQ(consumer.at("fetch.wait.max.ms"), "10");
}

TEST(config, properties_file_and_environment) {
  auto path = std::filesystem::temp_directory_path() / "rill-config-test.properties";
  {
    std::ofstream out(path);
    out << "# comment\napplication.id = from-file\n! another\ncommit.interval.ms=250\n\n";
  }
  rill::config c = rill::config::from_properties_file(path.string());
  EXPECT_EQ(c.get_string("application.id"), "from-file");
  EXPECT_EQ(c.get_int("commit.interval.ms"), 250);

  ::setenv("RILL_CONFIG_COMMIT_INTERVAL_MS", "75", 1);
  ::setenv("RILL_CONFIG_CONSUMER_FETCH_WAIT_MAX_MS", "3", 1);
  c.apply_environment();
  ::unsetenv("RILL_CONFIG_COMMIT_INTERVAL_MS");
  ::unsetenv("RILL_CONFIG_CONSUMER_FETCH_WAIT_MAX_MS");
  EXPECT_EQ(c.get_int("commit.interval.ms"), 75);
  EXPECT_EQ(c.get_string("consumer.fetch.wait.max.ms"), "3");

  {
    std::ofstream out(path);
    out << "application.id=x\nnum.stream.threads=-1\n";
  }
  EXPECT_EQ(error_of([&] { rill::config::from_properties_file(path.string()); }),
            path.string() + ":2: setting 'num.stream.threads' must be an integer >= 1, got '-1'");
  std::filesystem::remove(path);
}
