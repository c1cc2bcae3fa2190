// kill -9 for real: the bank (examples/bank) as two service processes on a rill-broker,
// at-least-once (neither the embedded broker nor rill-broker does transactions), while the
// test feeds it commands at a steady rate. Ten times in a row one of the two is killed with
// SIGKILL at a random moment while it is processing (the test waits until the victim's
// processed count moves, then kills within half a second), and started again on its state
// directory. At the end no command is lost, every answer is checked against a reference
// bank replaying each account's log (bank::replay), the duplicates are counted and
// reported, and the balances the events give hold the invariants: none negative, money
// conserved.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <fstream>
#include <iterator>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "examples/bank/replay.hpp"
#include "examples/bank/scenario.hpp"
#include "harness.hpp"
#include "src/http/client.hpp"

using namespace rill::test;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A bank service process and where it serves HTTP; started again after each kill.
class service {
 public:
  service(std::string name, std::vector<std::string> args, std::string log_prefix)
      : _name(std::move(name)), _args(std::move(args)), _log_prefix(std::move(log_prefix)) {}

  // Starts an incarnation; the address it serves ("" if it printed none within a minute).
  std::string start() {
    _log = fmt::format("{}-{}-{}.log", _log_prefix, _name, _incarnation++);
    _process = std::make_unique<process>(BANK_PATH, _args, _log);
    std::smatch m;
    std::string text;
    wait_for(
        [&] {
          text = slurp(_log);
          return std::regex_search(text, m, std::regex("serving http://([0-9.]+:[0-9]+)/")) ||
                 !_process->running();
        },
        60s);
    _address = m.empty() ? "" : m[1].str();
    return _address;
  }
  // Records processed by the running incarnation's stream threads (its /metrics), or -1.
  double processed() const {
    try {
      rill::http::client web(_address);
      const auto r = web.request("GET", "/metrics", {}, 5s);
      if (r.status != 200) return -1;
      double sum = 0;
      bool found = false;
      const std::regex line(R"(^rill_stream_thread_process_total\{[^}]*\} ([0-9.e+]+)$)");
      std::istringstream in(r.body);
      for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (std::regex_match(l, m, line)) {
          sum += std::stod(m[1].str());
          found = true;
        }
      }
      return found ? sum : -1;
    } catch (const std::exception&) {
      return -1;
    }
  }
  process& running() { return *_process; }
  const std::string& log() const { return _log; }
  const std::string& name() const { return _name; }

 private:
  std::string _name;
  std::vector<std::string> _args;
  std::string _log_prefix;
  std::string _log;
  std::string _address;
  int _incarnation = 0;
  std::unique_ptr<process> _process;
};

// Writes the commands at `per_second` on its own thread until stopped; how many it sent.
class feed {
 public:
  feed(const std::string& bootstrap, const std::map<std::string, std::string>& props,
       const bank::topics& t, const std::vector<bank::command>& commands, int per_second)
      : _thread([=, this] {
          rill::topic_writer<std::string, bank::command> writer(bootstrap, props);
          const auto start = std::chrono::steady_clock::now();
          for (std::size_t i = 0; i < commands.size() && !_stop; ++i) {
            writer.send(t.commands(), commands[i].account, commands[i]);
            _sent = i + 1;
            const auto due = start + std::chrono::microseconds(
                                         1000000LL * static_cast<long long>(i + 1) / per_second);
            std::this_thread::sleep_until(due);  // the pace of the feed, not a wait
          }
          writer.flush(30s);
        }) {}
  ~feed() { stop(); }
  std::size_t stop() {
    _stop = true;
    if (_thread.joinable()) _thread.join();
    return _sent;
  }
  std::size_t sent() const { return _sent; }

 private:
  std::atomic<bool> _stop{false};
  std::atomic<std::size_t> _sent{0};
  std::thread _thread;
};

}  // namespace

TEST(bank_kill, two_services_killed_ten_times_while_processing_lose_no_command) {
  const std::string dir = "/tmp/" + unique("rill-bank-kill");
  const std::string props_file = dir + ".properties";
  process broker(RILL_BROKER_PATH, {"--properties", props_file}, dir + "-broker.log");
  ASSERT_TRUE(wait_for([&] { return std::ifstream(props_file).good(); }, 30s))
      << "rill-broker wrote no properties";
  // At-least-once, committing every 100 ms: a command comes again only if it was processed
  // since the last commit, far fewer per account than the answers an account remembers.
  {
    std::ofstream(props_file, std::ios::app) << "processing.guarantee=at_least_once\n"
                                             << "commit.interval.ms=100\n"
                                             << "consumer.session.timeout.ms=6000\n"
                                             << "consumer.heartbeat.interval.ms=1000\n";
  }
  const rill::config file = rill::config::from_properties_file(props_file);
  const std::string bootstrap = file.get_string("bootstrap.servers");
  std::map<std::string, std::string> props;
  if (auto control = file.get("broker.control")) props["broker.control"] = *control;
  const bank::topics topics{unique("bank") + "-"};
  for (const auto& t : {topics.commands(), topics.events(), topics.balances()})
    rill::create_topic(bootstrap, t, 4, props);

  const std::string app_id = unique("bank");
  auto args = [&](const std::string& name) {
    return std::vector<std::string>{"service",        "--properties", props_file,
                                    "--http",         "127.0.0.1:0",  "--application-id",
                                    app_id,           "--state-dir",  dir + "-" + name,
                                    "--topic-prefix", topics.prefix};
  };
  std::array<service, 2> services{service("a", args("a"), dir), service("b", args("b"), dir)};
  for (auto& s : services) ASSERT_FALSE(s.start().empty()) << slurp(s.log());

  // 1 000 accounts opened first, then deposits, withdrawals and transfers at 500 a second
  // (a prefix of the generated list is itself a valid list) until the kills are done.
  const auto planned = bank::generate(200000, 1000);
  feed commands(bootstrap, props, topics, planned, 500);

  std::mt19937 random(20261130);
  for (int kill = 0; kill < 10; ++kill) {
    service& victim = services[random() % 2];
    const double before = victim.processed();
    ASSERT_TRUE(wait_for([&] { return victim.processed() > std::max(before, 0.0); }, 90s))
        << "kill " << kill << ": " << victim.name() << " never processed a record\n"
        << slurp(victim.log());
    const double processing = victim.processed();
    // A random moment while it processes.
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 500));
    victim.running().kill(SIGKILL);
    const auto code = victim.running().wait(10s);
    ASSERT_EQ(code, 128 + SIGKILL) << victim.name() << " did not die of the SIGKILL";
    std::cout << "kill " << kill + 1 << ": " << victim.name() << " killed after processing "
              << processing << "+ records; " << commands.sent() << " commands sent" << std::endl;
    ASSERT_FALSE(victim.start().empty()) << slurp(victim.log());
  }
  const std::size_t sent = commands.stop();
  const std::vector<bank::command> expected(planned.begin(),
                                            planned.begin() + static_cast<std::ptrdiff_t>(sent));
  ASSERT_GT(sent, 1000u) << "the feed went past the accounts' opening";

  // Every command answered, read from the event log (the balances topic is an at-least-once
  // aggregate of the events, so it counts a duplicated event twice: the test derives the
  // balances from the events itself).
  bank::outputs read;
  rill::topic_reader<std::string, bank::event> events(bootstrap, topics.events(), props);
  bank::check_result result;
  const bool answered = wait_for(
      [&] {
        for (auto& e : events.read(100000, 100ms)) read.events.push_back(std::move(e));
        result = bank::check(expected, read);
        return result.unanswered == 0;
      },
      180s, 1ms);
  const auto replayed = bank::replay(expected, read);
  std::cout << sent << " commands; " << result.summary() << "\n" << replayed.summary() << std::endl;
  for (const auto& p : replayed.problems) std::cout << "  " << p << "\n";
  EXPECT_TRUE(answered) << "no command is lost: " << result.summary() << "\n"
                        << fmt::format("{}", fmt::join(result.problems, "\n"));
  EXPECT_EQ(replayed.negative_at_end(), 0u) << "no balance the events give is negative";
  EXPECT_TRUE(replayed.conserved()) << "every debited transfer was credited or refunded";
  // Commands that came again were mostly recognized and answered as before (duplicates); a
  // different answer needs the first one sent, its account's write lost in the kill, and a
  // transfer's credit arriving in another order the second time: reported, and rare.
  EXPECT_LT(replayed.re_answered, sent / 100) << replayed.summary();
  EXPECT_EQ(replayed.wrong, 0u) << "every answer, in version order, is a correct bank's: "
                                << replayed.summary();
}
