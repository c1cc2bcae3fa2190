// Rill's logging in a running app on the embedded broker: a host's spdlog settings stay the
// host's while Rill's lines reach the sink it handed in; lifecycle lines carry app=, thread=,
// task=; JSON lines parse; a SASL password is in no line; nothing goes to stdout.
// Data: at most 200 records of ~10 bytes per test.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include <simdjson.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <rill/logging.hpp>
#include <rill/rill.hpp>
#include <rill/spdlog_sink.hpp>

#include "harness.hpp"

using namespace rill::test;

namespace {

// Rill's lines with their levels, taken for the test's duration; defaults restored after.
struct captured {
  struct store {
    std::mutex mutex;
    std::vector<std::pair<rill::log_level, std::string>> lines;
  };
  std::shared_ptr<store> got = std::make_shared<store>();
  captured() {
    rill::set_log_sink([got = got](rill::log_level l, std::string_view line) {
      std::lock_guard lock(got->mutex);
      got->lines.emplace_back(l, std::string(line));
    });
  }
  ~captured() { restore_defaults(); }
  static void restore_defaults() {
    rill::set_log_sink({});
    rill::set_log_level(rill::log_level::info);
    rill::set_log_format(rill::log_format::text);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(got->mutex);
    std::vector<std::string> out;
    for (const auto& [l, s] : got->lines) out.push_back(s);
    return out;
  }
  bool any(const std::function<bool(const std::string&)>& f) const {
    auto all = lines();
    return std::any_of(all.begin(), all.end(), f);
  }
};

bool has(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

// Runs an app copying (through `map`) `records` records with `extra` settings until it has
// processed or skipped them all, then closes it.
void run_app(
    const std::vector<std::pair<std::string, std::string>>& extra, int records = 20,
    std::function<std::string(std::string)> map = [](std::string v) { return v; }) {
  cluster c;
  const std::string in = unique("log-in");
  const std::string out = unique("log-out");
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
  for (int i = 0; i < records; ++i) w.send(in, "k" + std::to_string(i), "v" + std::to_string(i));
  w.flush();
  rill::streams_builder b;
  b.stream<std::string, std::string>(in).map_values(map).to(out);
  rill::config cfg = c.app_config(unique("logging"));
  for (const auto& [k, v] : extra) cfg.set(k, v);
  rill::streams_app app(b.build(), cfg);
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  EXPECT_TRUE(wait_for(
      [&] {
        const auto n = app.counters();
        return n.processed + n.skipped >= static_cast<std::uint64_t>(records);
      },
      60s));
  EXPECT_TRUE(app.close());
}

}  // namespace

TEST(logging, a_host_keeps_its_spdlog_level_and_default_logger_while_rill_logs_to_its_sink) {
  const auto previous_default = spdlog::default_logger();
  auto host_sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto host_logger = std::make_shared<spdlog::logger>("host", host_sink);
  spdlog::set_default_logger(host_logger);
  spdlog::set_level(spdlog::level::warn);
  auto rill_sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(20000);
  rill::set_log_sink(rill::spdlog_sink(rill_sink));

  run_app({{"log.level", "debug"}});

  EXPECT_EQ(spdlog::get_level(), spdlog::level::warn) << "Rill changed spdlog's global level";
  EXPECT_EQ(spdlog::default_logger(), host_logger) << "Rill replaced the default logger";
  EXPECT_EQ(host_logger->level(), spdlog::level::warn);
  EXPECT_EQ(spdlog::get("rill"), nullptr) << "Rill registered a logger with spdlog";
  EXPECT_EQ(rill::get_log_level(), rill::log_level::debug) << "log.level set Rill's level";
  for (const auto& line : host_sink->last_formatted()) {
    EXPECT_FALSE(has(line, "app=")) << "a Rill line reached the host's logger: " << line;
  }
  const auto raw = rill_sink->last_raw();
  EXPECT_TRUE(std::any_of(raw.begin(), raw.end(), [](const auto& m) {
    return m.level == spdlog::level::debug;
  })) << "no debug line reached the host's sink";
  const auto lines = rill_sink->last_formatted();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return has(l, "[rill]") && has(l, "msg=\"task created\"") && has(l, " app=") &&
           has(l, " thread=1 ") && has(l, " task=0_");
  })) << "no task line with app=, thread= and task=";
  captured::restore_defaults();
  spdlog::set_default_logger(previous_default);
  spdlog::set_level(spdlog::level::info);
}

TEST(logging, lifecycle_lines_carry_app_thread_and_task_fields_and_none_is_per_record) {
  captured got;
  run_app({}, 200);
  const auto lines = got.lines();
  for (const char* msg :
       {"msg=\"app state changed\"", "msg=\"stream thread started\"", "msg=\"partitions assigned\"",
        "msg=\"task created\"", "msg=\"task closed\"", "msg=\"stream thread stopped\""}) {
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return has(l, msg) && has(l, " app=");
    })) << msg;
  }
  EXPECT_TRUE(got.any([](const std::string& l) {
    return has(l, "msg=\"task created\"") && has(l, " thread=1 task=0_");
  }));
  EXPECT_LT(lines.size(), 100u) << "a line per record at info?";
}

TEST(logging, json_lines_of_a_running_app_parse_with_time_level_logger_and_message) {
  captured got;
  run_app({{"log.format", "json"}});
  EXPECT_EQ(rill::get_log_format(), rill::log_format::json);
  auto lines = got.lines();
  // The test's broker started (and logged) before the app's config chose JSON.
  auto first = std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l[0] == '{'; });
  lines.erase(lines.begin(), first);
  ASSERT_GT(lines.size(), 5u);
  simdjson::dom::parser parser;
  bool task_line = false;
  for (const auto& line : lines) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    for (const char* field : {"time", "level", "logger", "message"}) {
      EXPECT_EQ(doc[field].error(), simdjson::SUCCESS) << field << " missing: " << line;
    }
    if (std::string_view(doc["message"]) == "task created") {
      task_line = true;
      EXPECT_EQ(doc["app"].error(), simdjson::SUCCESS) << line;
      EXPECT_EQ(std::string_view(doc["thread"]), "1") << line;
      EXPECT_EQ(std::string_view(doc["task"]).substr(0, 2), "0_") << line;
    }
  }
  EXPECT_TRUE(task_line);
}

TEST(logging, a_sasl_password_appears_in_no_line_even_when_user_code_or_librdkafka_says_it) {
  captured got;
  const std::string secret = "hunter2-SECRET";
  // One record's processing fails with the password in the exception's text; the handler
  // logs and skips it.
  run_app({{"log.level", "trace"},
           {"consumer.sasl.password", secret},
           {"producer.sasl.password", secret},
           {"admin.sasl.password", secret},
           {"processing.exception.handler", "log_and_continue"},
           {"consumer.debug", "conf"}},  // librdkafka lists its configuration at trace
          20, [&](std::string v) -> std::string {
            if (v == "v7") throw std::runtime_error("login with " + secret + " refused");
            return v;
          });
  EXPECT_TRUE(got.any([](const std::string& l) { return has(l, "sasl.password = [redacted]"); }))
      << "librdkafka's configuration dump was not captured";
  EXPECT_TRUE(got.any([](const std::string& l) {
    return has(l, "msg=\"skipped a record: a node threw\"") &&
           has(l, "error=\"login with [redacted] refused\"");
  })) << "the failing record's line was not scrubbed";
  for (const auto& line : got.lines()) {
    EXPECT_FALSE(has(line, secret)) << line;
  }
}

TEST(logging, an_app_writes_its_lines_to_stderr_and_nothing_to_stdout) {
  captured::restore_defaults();
  const std::string base = "/tmp/" + unique("logging-fd");
  std::fflush(nullptr);
  const int saved_out = ::dup(1);
  const int saved_err = ::dup(2);
  const int out = ::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err = ::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out, 1);
  ::dup2(err, 2);
  run_app({{"log.level", "debug"}});
  std::fflush(nullptr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  for (int fd : {out, err, saved_out, saved_err}) ::close(fd);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(base + ".out"), "") << "Rill wrote to stdout";
  const std::string text = read(base + ".err");
  EXPECT_NE(text.find("level=info logger=rill msg=\"app state changed\""), std::string::npos)
      << text.substr(0, 2000);
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
}
