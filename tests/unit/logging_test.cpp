// Rill's logger: key=value lines, JSON lines, levels, its own stderr destination (never
// stdout, never spdlog's registry), and secrets kept out of log lines and error messages.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <rill/clients.hpp>
#include <rill/config.hpp>
#include <rill/logging.hpp>
#include <rill/streams_app.hpp>
#include <rill/streams_builder.hpp>
#include <rill/task_id.hpp>

#include "src/log/log.hpp"
#include "src/log/secrets.hpp"
#include "src/runtime/app_settings.hpp"

namespace {

using rill::log::kv;

// Takes Rill's lines for the test's duration; restores the defaults after.
struct captured {
  std::mutex mutex;
  std::vector<std::pair<rill::log_level, std::string>> lines;
  captured() {
    rill::set_log_sink([this](rill::log_level l, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(l, std::string(line));
    });
  }
  ~captured() {
    rill::set_log_sink({});
    rill::set_log_level(rill::log_level::info);
    rill::set_log_format(rill::log_format::text);
  }
  std::vector<std::string> text() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& [l, s] : lines) out.push_back(s);
    return out;
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Sends file descriptor `fd` to a file while alive; contents() reads what arrived.
struct redirect {
  int fd;
  int saved;
  std::string path;
  explicit redirect(int which)
      : fd(which),
        saved(::dup(which)),
        path((std::filesystem::temp_directory_path() /
              ("rill-logging-test-" + std::to_string(::getpid()) + "-" + std::to_string(which)))
                 .string()) {
    std::fflush(nullptr);
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(file, fd);
    ::close(file);
  }
  std::string contents() {
    std::fflush(nullptr);
    return read_file(path);
  }
  ~redirect() {
    std::fflush(nullptr);
    ::dup2(saved, fd);
    ::close(saved);
    std::filesystem::remove(path);
  }
};

}  // namespace

TEST(logging, lines_carry_their_fields_in_one_key_value_style) {
  captured got;
  rill::log::logger()
      .with("app", "orders")
      .with("thread", 1)
      .info("task created", kv("task", rill::task_id{0, 3}));
  ASSERT_EQ(got.text().size(), 1u);
  EXPECT_EQ(got.text()[0], "msg=\"task created\" app=orders thread=1 task=0_3");
}

TEST(logging, values_with_spaces_quotes_or_newlines_are_quoted_and_stay_on_one_line) {
  captured got;
  rill::log::logger().warn("commit failed", kv("error", "broker said \"no\"\nthen left"),
                           kv("empty", ""), kv("clean", false));
  ASSERT_EQ(got.text().size(), 1u);
  EXPECT_EQ(got.text()[0],
            "msg=\"commit failed\" error=\"broker said \\\"no\\\"\\nthen left\" empty=\"\" "
            "clean=false");
}

TEST(logging, an_empty_view_or_a_null_c_string_is_an_empty_value) {
  captured got;
  const char* none = nullptr;
  rill::log::logger().warn("dead-lettered", kv("node", std::string_view()), kv("facility", none));
  ASSERT_EQ(got.text().size(), 1u);
  EXPECT_EQ(got.text()[0], "msg=dead-lettered node=\"\" facility=\"\"");
}

TEST(logging, json_format_writes_one_parseable_object_per_line_with_fixed_fields_first) {
  captured got;
  rill::set_log_format(rill::log_format::json);
  rill::log::logger()
      .with("app", "orders")
      .with("thread", "2")
      .warn("partitions lost; closing their tasks", kv("partitions", "a-0,a-1"), kv("records", 42),
            kv("note", "quote \" and \\ and\nnewline"));
  const auto lines = got.text();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), std::string::npos);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(lines[0]).get(doc), simdjson::SUCCESS) << lines[0];
  EXPECT_EQ(std::string_view(doc["level"]), "warn");
  EXPECT_EQ(std::string_view(doc["logger"]), "rill");
  EXPECT_EQ(std::string_view(doc["message"]), "partitions lost; closing their tasks");
  EXPECT_EQ(std::string_view(doc["app"]), "orders");
  EXPECT_EQ(std::string_view(doc["thread"]), "2");
  EXPECT_EQ(std::int64_t(doc["records"]), 42) << "numbers stay numbers";
  EXPECT_EQ(std::string_view(doc["note"]), "quote \" and \\ and\nnewline");
  const std::string_view time = doc["time"];
  EXPECT_EQ(time.size(), 24u) << time;  // 2024-05-01T10:00:00.123Z
  EXPECT_EQ(time.back(), 'Z');
  EXPECT_EQ(lines[0].rfind("{\"time\":", 0), 0u) << lines[0];
}

TEST(logging, lines_below_the_level_are_neither_rendered_nor_written) {
  captured got;
  rill::set_log_level(rill::log_level::warn);
  struct counted {
    int* calls;
    std::string to_string() const {
      ++*calls;
      return "x";
    }
  };
  int calls = 0;
  rill::log::logger().debug("below", kv("value", counted{&calls}));
  rill::log::logger().info("below too", kv("value", counted{&calls}));
  EXPECT_EQ(calls, 0);
  rill::log::logger().warn("at the level", kv("value", counted{&calls}));
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(got.lines.size(), 1u);
  EXPECT_EQ(got.lines[0].first, rill::log_level::warn);
  rill::set_log_level(rill::log_level::off);
  rill::log::logger().error("off means off");
  EXPECT_EQ(got.lines.size(), 1u);
}

TEST(logging, the_default_destination_is_stderr_never_stdout_and_never_spdlogs_registry) {
  auto before = spdlog::default_logger();
  const auto level_before = spdlog::get_level();
  std::string out, err;
  {
    redirect stdout_file(1);
    redirect stderr_file(2);
    rill::log::logger().with("app", "orders").info("app starting", kv("threads", 2));
    out = stdout_file.contents();
    err = stderr_file.contents();
  }
  EXPECT_EQ(out, "") << "Rill wrote to stdout";
  EXPECT_EQ(err.rfind("time=", 0), 0u) << err;
  EXPECT_NE(err.find(" level=info logger=rill msg=\"app starting\" app=orders threads=2\n"),
            std::string::npos)
      << err;
  EXPECT_EQ(spdlog::get("rill"), nullptr) << "Rill's logger is not in spdlog's registry";
  EXPECT_EQ(spdlog::default_logger(), before);
  EXPECT_EQ(spdlog::get_level(), level_before);
}

TEST(logging, log_level_and_format_in_a_config_set_rills_and_unset_ones_leave_them) {
  captured restore;
  rill::set_log_level(rill::log_level::warn);
  rill::runtime::apply_log_settings(rill::config{{"application.id", "a"}});
  EXPECT_EQ(rill::get_log_level(), rill::log_level::warn) << "an unset log.level changed it";
  rill::runtime::apply_log_settings(rill::config{{"log.level", "debug"}, {"log.format", "json"}});
  EXPECT_EQ(rill::get_log_level(), rill::log_level::debug);
  EXPECT_EQ(rill::get_log_format(), rill::log_format::json);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info) << "spdlog's global level is the host's";
  EXPECT_NE(error_of([] {
              rill::config c{{"log.format", "xml"}};
            }).find("must be one of text, json"),
            std::string::npos);
}

TEST(secrets, keys_that_hold_secrets_are_recognised_under_any_prefix) {
  for (const char* key :
       {"sasl.password", "consumer.sasl.password", "ssl.key.password", "producer.ssl.key.password",
        "ssl.keystore.password", "ssl.truststore.password", "sasl.oauthbearer.client.secret",
        "my.client.secret.value", "SASL.PASSWORD", "sasl.jaas.config", "basic.auth.user.info",
        "consumer.sasl.oauthbearer.config", "ssl.key.pem", "bearer.auth.token"}) {
    EXPECT_TRUE(rill::log::is_secret_key(key)) << key;
  }
  for (const char* key : {"sasl.username", "sasl.mechanisms", "ssl.key.location",
                          "security.protocol", "application.id", "bootstrap.servers"}) {
    EXPECT_FALSE(rill::log::is_secret_key(key)) << key;
  }
}

TEST(secrets, registered_values_are_scrubbed_from_every_line_whoever_wrote_it) {
  captured got;
  {
    rill::log::secret_scope scope({"hunter2-SECRET"});
    rill::log::logger()
        .with("client", "x hunter2-SECRET y")
        .warn("librdkafka said sasl.password=hunter2-SECRET", kv("error", "hunter2-SECRET!"));
  }
  rill::log::logger().info("after the scope", kv("value", "hunter2-SECRET"));
  const auto lines = got.text();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "msg=\"librdkafka said sasl.password=[redacted]\" client=\"x [redacted] y\" "
            "error=[redacted]!");
  EXPECT_NE(lines[1].find("hunter2-SECRET"), std::string::npos)
      << "only registered values are scrubbed (an app registers its config's for its lifetime)";
}

TEST(secrets, config_errors_never_show_a_secret_value) {
  const std::string secret = "hunter2-SECRET";
  // A properties line without a separator may be `key value`.
  const auto path = std::filesystem::temp_directory_path() / "rill-logging-secrets.properties";
  {
    std::ofstream out(path);
    out << "application.id=orders\nconsumer.sasl.password " << secret << "\n";
  }
  const std::string file_error = error_of([&] { rill::config::from_properties_file(path); });
  std::filesystem::remove(path);
  EXPECT_NE(file_error.find("expected key=value, got '[redacted]'"), std::string::npos)
      << file_error;
  EXPECT_EQ(file_error.find(secret), std::string::npos) << file_error;

  // librdkafka rejects these keys, and its messages may quote values: neither shows.
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("out");
  const rill::topology t = b.build();
  for (const char* key : {"consumer.sasl.jaas.config", "producer.my.client.secret"}) {
    const std::string e = error_of([&] {
      rill::streams_app app(t, rill::config{{"application.id", "x"}, {key, secret}});
    });
    EXPECT_NE(e.find(std::string("setting '") + key + "' = '[redacted]'"), std::string::npos) << e;
    EXPECT_EQ(e.find(secret), std::string::npos) << e;
  }
  const std::string client_error = error_of([&] {
    rill::topic_writer<std::string, std::string> w("127.0.0.1:9",
                                                   {{"sasl.jaas.config", "password=" + secret}});
  });
  EXPECT_NE(client_error.find("'sasl.jaas.config' = '[redacted]'"), std::string::npos)
      << client_error;
  EXPECT_EQ(client_error.find(secret), std::string::npos) << client_error;
  // Other settings still say what was wrong with them.
  EXPECT_NE(error_of([] {
              rill::config c{{"num.stream.threads", "zero"}};
            }).find("got 'zero'"),
            std::string::npos);
}
