// The programs: `rill reset` end to end on the embedded broker (an app runs, is reset, and
// runs again from the beginning; --dry-run changes nothing), `rill describe`,
// streams_app::cleanup(), and the command line of every program (--help; exit code 2 and a
// message for a bad one).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <rill/rill.hpp>

#include "harness.hpp"
#include "src/runtime/cluster.hpp"

namespace {

using namespace rill::test;
namespace fs = std::filesystem;

struct outcome {
  std::optional<int> code;
  std::string output;  // stdout and stderr
};

outcome run_program(const std::string& path, const std::vector<std::string>& args) {
  const std::string log = "/tmp/" + unique("tool") + ".log";
  process p(path, args, log);
  outcome o;
  o.code = p.wait(120s);
  std::ifstream in(log);
  o.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(log);
  return o;
}

// A word count with a repartition (group_by) and a changelogged store.
rill::topology word_counts(const std::string& in, const std::string& out) {
  rill::streams_builder b;
  b.stream<std::string, std::string>(in)
      .group_by([](const std::string&, const std::string& word) { return word; })
      .count(rill::named("counts"))
      .to_stream()
      .to(out);
  return b.build();
}

// Runs the app until the records of `out` at or after `from` (per partition) show `expected`
// as the last count of every word, then closes it. Returns where `out` ends (per partition).
std::map<std::int32_t, std::int64_t> run_until_counted(
    rill::test::cluster& c, const rill::config& cfg, const std::string& in, const std::string& out,
    const std::map<std::string, std::int64_t>& expected,
    std::map<std::int32_t, std::int64_t> from) {
  rill::streams_app app(word_counts(in, out), cfg);
  app.start();
  rill::topic_reader<std::string, std::optional<std::int64_t>> reader(c.bootstrap(), out,
                                                                      c.props());
  std::map<std::string, std::int64_t> last;
  EXPECT_TRUE(wait_for(
      [&] {
        for (auto& r : reader.read(1000, 100ms)) {
          if (r.offset < from[r.partition]) continue;  // an earlier run's
          from[r.partition] = r.offset + 1;
          if (r.value) last[r.key] = *r.value;
        }
        return last == expected;
      },
      60s))
      << "the counts of this run never reached the expected ones";
  app.close();
  return from;
}

std::vector<rill::kafka::partition_offset> committed(rill::test::cluster& c,
                                                     const std::string& group,
                                                     const std::string& topic, int partitions) {
  auto cluster = rill::runtime::connect_cluster(
      c.bootstrap(), c.props().empty() ? "" : c.props().at("broker.control"));
  auto consumer = cluster.clients->make_consumer({{"group.id", group}});
  std::vector<rill::kafka::partition_offset> offsets;
  for (int p = 0; p < partitions; ++p) offsets.push_back({{topic, p}, -1});
  EXPECT_FALSE(consumer->committed(offsets, 10s)) << "cannot read the committed offsets";
  return offsets;
}

}  // namespace

TEST(rill_reset, an_app_reset_runs_again_from_the_beginning_and_a_dry_run_changes_nothing) {
  cluster c;
  const std::string app_id = unique("reset");
  const std::string in = app_id + "-in";
  const std::string out = app_id + "-out";
  c.create_topic(in, 2);
  c.create_topic(out, 2);
  std::map<std::string, std::int64_t> expected;
  {
    rill::topic_writer<std::string, std::string> w(c.bootstrap(), c.props());
    const char* words[] = {"ant", "bee", "cat", "dog", "eel"};
    for (int i = 0; i < 200; ++i) {
      w.send(in, "line-" + std::to_string(i), words[i % 5]);
      ++expected[words[i % 5]];
    }
    w.flush();
  }
  const std::string state_dir = (fs::temp_directory_path() / unique("reset-state")).string();
  rill::config cfg = c.app_config(app_id);
  cfg.set("state.dir", state_dir);
  cfg.set("commit.interval.ms", "100");

  const auto first_end = run_until_counted(c, cfg, in, out, expected, {});
  ASSERT_TRUE(fs::exists(state_dir + "/" + app_id)) << "the first run kept no local state";
  const auto before = committed(c, app_id, in, 2);
  EXPECT_EQ(before[0].offset + before[1].offset, 200) << "the first run committed its input";

  const std::vector<std::string> reset_args{"reset",
                                            "--bootstrap-servers",
                                            c.bootstrap(),
                                            "--broker-control",
                                            c.props().at("broker.control"),
                                            "--application-id",
                                            app_id,
                                            "--input-topics",
                                            in,
                                            "--state-dir",
                                            state_dir};
  // A dry run says what it would do and does none of it.
  auto dry_args = reset_args;
  dry_args.push_back("--dry-run");
  outcome dry = run_program(RILL_TOOL_PATH, dry_args);
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would move to offset 0"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find(app_id + "-counts-changelog: would write"), std::string::npos)
      << dry.output;
  EXPECT_NE(dry.output.find("would delete"), std::string::npos) << dry.output;
  EXPECT_TRUE(fs::exists(state_dir + "/" + app_id)) << "the dry run deleted the local state";
  EXPECT_EQ(committed(c, app_id, in, 2), before) << "the dry run moved the input offsets";

  outcome reset = run_program(RILL_TOOL_PATH, reset_args);
  ASSERT_EQ(reset.code, 0) << reset.output;
  EXPECT_FALSE(fs::exists(state_dir + "/" + app_id)) << reset.output;
  for (const auto& po : committed(c, app_id, in, 2)) EXPECT_EQ(po.offset, 0) << reset.output;

  // The next run reads every input again and counts from zero: what it writes ends with each
  // word's count in the input (not nothing, as without the reset; not twice the count, as
  // with the old state).
  run_until_counted(c, cfg, in, out, expected, first_end);
}

TEST(rill_reset, refuses_an_unknown_input_topic_and_a_missing_broker) {
  cluster c;
  outcome missing = run_program(
      RILL_TOOL_PATH, {"reset", "--bootstrap-servers", c.bootstrap(), "--broker-control",
                       c.props().at("broker.control"), "--application-id", "x", "--input-topics",
                       "no-such-topic", "--dry-run"});
  EXPECT_EQ(missing.code, 1) << missing.output;
  EXPECT_NE(missing.output.find("topic 'no-such-topic' does not exist"), std::string::npos)
      << missing.output;
  outcome no_broker = run_program(RILL_TOOL_PATH, {"reset", "--application-id", "x"});
  EXPECT_EQ(no_broker.code, 2) << no_broker.output;
  EXPECT_NE(no_broker.output.find("--bootstrap-servers or --properties"), std::string::npos)
      << no_broker.output;
}

TEST(streams_app, cleanup_deletes_the_local_state_and_refuses_while_running) {
  cluster c;
  const std::string app_id = unique("cleanup");
  c.create_topic(app_id + "-in", 1);
  c.create_topic(app_id + "-out", 1);
  rill::config cfg = c.app_config(app_id);
  const std::string state_dir = (fs::temp_directory_path() / unique("cleanup-state")).string();
  cfg.set("state.dir", state_dir);
  rill::streams_app app(word_counts(app_id + "-in", app_id + "-out"), cfg);
  app.start();
  ASSERT_TRUE(app.wait_until_running(60s));
  EXPECT_THROW(app.cleanup(), rill::error);
  app.close();
  ASSERT_TRUE(fs::exists(state_dir + "/" + app_id));
  app.cleanup();
  EXPECT_FALSE(fs::exists(state_dir + "/" + app_id));
}

TEST(rill_describe, prints_an_examples_topology_as_text_dot_and_svg) {
  outcome text = run_program(RILL_TOOL_PATH, {"describe", "word_count"});
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_NE(text.output.find("Sub-topology: 0"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("word-counts"), std::string::npos) << text.output;
  outcome dot = run_program(RILL_TOOL_PATH, {"describe", "bank", "--dot"});
  ASSERT_EQ(dot.code, 0) << dot.output;
  EXPECT_EQ(dot.output.rfind("digraph", 0), 0u) << dot.output;
  outcome svg = run_program(RILL_TOOL_PATH, {"describe", "event_router", "--svg"});
  ASSERT_EQ(svg.code, 0) << svg.output;
  EXPECT_NE(svg.output.find("<svg"), std::string::npos) << svg.output.substr(0, 400);
}

// Every program: --help works; a bad command line exits 2 with a message naming the problem.
TEST(command_lines, every_program_explains_a_bad_command_line_and_exits_2) {
  struct bad {
    std::string program;
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<bad> cases{
      {RILL_TOOL_PATH, {}, "A subcommand is required"},
      {RILL_TOOL_PATH, {"frobnicate"}, "unknown command 'frobnicate'"},
      {RILL_TOOL_PATH, {"broker", "--brokers", "x"}, "--brokers"},
      {RILL_TOOL_PATH, {"broker", "--topic", "orders"}, "NAME:PARTITIONS"},
      {RILL_TOOL_PATH, {"describe", "nosuch"}, "nosuch"},
      {RILL_TOOL_PATH, {"reset"}, "--application-id is required"},
      {RILL_TOOL_PATH, {"reset", "--application-id", "a", "--to-offset", "x"}, "--to-offset"},
      {RILL_TOOL_PATH,
       {"reset", "--application-id", "a", "--to-latest", "--to-offset", "3"},
       "excludes"},
      {RILL_TOOL_PATH, {"reset", "--application-id", "a", "--bogus"}, "--bogus"},
      {RILL_BROKER_PATH, {"--brokers"}, "--brokers"},
      {RILL_BROKER_PATH, {"--topic", "t:x"}, "t:x"},
      {BANK_PATH, {"--commands"}, "--commands"},
      {BANK_PATH, {"--commands", "many"}, "many"},
      {BANK_PATH, {"--accounts", "10", "--bogus"}, "--bogus"},
      {BANK_PATH, {"service"}, "needs --properties"},
      {BANK_PATH, {"audit"}, "audit"},
      {WORD_COUNT_PATH, {"--lines", "abc"}, "abc"},
      {WORD_COUNT_PATH, {"service"}, "needs --properties"},
      {EVENT_ROUTER_PATH, {"--threads"}, "--threads"},
      {EVENT_ROUTER_PATH, {"generate", "--properties", "/no/such/file"}, "/no/such/file"},
  };
  for (const auto& c : cases) {
    outcome o = run_program(c.program, c.args);
    std::string line = fs::path(c.program).filename().string();
    for (const auto& a : c.args) line += " " + a;
    EXPECT_EQ(o.code, 2) << line << "\n" << o.output;
    EXPECT_NE(o.output.find(c.says), std::string::npos)
        << line << " should say '" << c.says << "':\n"
        << o.output;
  }
  for (const std::string program :
       {RILL_TOOL_PATH, RILL_BROKER_PATH, BANK_PATH, WORD_COUNT_PATH, EVENT_ROUTER_PATH}) {
    outcome help = run_program(program, {"--help"});
    EXPECT_EQ(help.code, 0) << program << "\n" << help.output;
    EXPECT_NE(help.output.find("Usage:"), std::string::npos) << program << "\n" << help.output;
  }
}
