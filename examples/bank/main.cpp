// bank: the event-sourced bank (see bank.hpp).
//
//   bank [all] [--commands N] [--accounts A]   everything in one process on the embedded
//                                               broker: generate, run, check the invariants
//   bank service --properties FILE [--state-dir DIR] [--application-id ID] [--topic-prefix P]
//                [--http HOST:PORT]                 serve queries and /metrics there
//   bank generate --properties FILE [--commands N] [--accounts A]
//   bank check --properties FILE [--commands N] [--accounts A] [--timeout-ms T]
//
// FILE holds bootstrap.servers (and broker.control for a rill broker). Exit code 0 when the
// invariants hold.
#include <filesystem>
#include <iostream>

#include "bank.hpp"
#include "scenario.hpp"
#include "tools/cli.hpp"

namespace {

struct options {
  std::string mode = "all";
  std::string properties;
  std::size_t commands = 20000;
  std::size_t accounts = 200;
  std::string application_id = "bank";
  std::string state_dir = "/tmp/rill-bank";
  long timeout_ms = 120000;
  std::string http;  // application.server of the service; none when empty
  bank::topics topics;
};

// The command line; -1 to go on, else the exit code (0 after --help, 2 when it is bad).
int parse(int argc, char** argv, options& o) {
  CLI::App app{"The event-sourced bank on Rill: commands -> events -> balances", "bank"};
  app.add_option("--commands", o.commands, "Commands to generate and check")
      ->check(CLI::PositiveNumber);
  app.add_option("--accounts", o.accounts, "Accounts the commands touch")
      ->check(CLI::PositiveNumber);
  app.add_option("--application-id", o.application_id, "application.id of the service");
  app.add_option("--state-dir", o.state_dir, "state.dir of the service");
  app.add_option("--timeout-ms", o.timeout_ms, "How long check waits for the answers")
      ->check(CLI::PositiveNumber);
  app.add_option("--topic-prefix", o.topics.prefix, "Prefix of every topic name");
  app.add_option("--http", o.http,
                 "application.server: where the service serves queries and /metrics");
  return rill::cli::parse_example(app, argc, argv, o.mode, {"all", "service", "generate", "check"},
                                  o.properties);
}

std::pair<std::string, std::map<std::string, std::string>> broker_of(const options& o) {
  if (o.properties.empty()) return {"embedded", {}};
  rill::config c = rill::config::from_properties_file(o.properties);
  std::map<std::string, std::string> props;
  if (auto control = c.get("broker.control")) props["broker.control"] = *control;
  return {c.get_string("bootstrap.servers"), props};
}

rill::config app_config(const options& o, const std::string& bootstrap) {
  rill::config c{{"application.id", o.application_id},
                 {"state.dir", o.state_dir},
                 {"commit.interval.ms", "500"}};
  if (!o.properties.empty()) {
    const rill::config file = rill::config::from_properties_file(o.properties);
    for (const auto& [k, v] : file.values()) c.set(k, v);
  }
  c.set("bootstrap.servers", bootstrap);
  if (!o.http.empty()) c.set("application.server", o.http);
  return c;
}

void create_topics(const options& o, const std::string& bootstrap,
                   const std::map<std::string, std::string>& props) {
  for (const auto& t : {o.topics.commands(), o.topics.events(), o.topics.balances()})
    rill::create_topic(bootstrap, t, 4, props);
}

void generate(const options& o, const std::string& bootstrap,
              const std::map<std::string, std::string>& props) {
  rill::topic_writer<std::string, bank::command> writer(bootstrap, props);
  for (const auto& c : bank::generate(o.commands, o.accounts))
    writer.send(o.topics.commands(), c.account, c);
  writer.flush();
}

int check(const options& o, const std::string& bootstrap,
          const std::map<std::string, std::string>& props) {
  auto commands = bank::generate(o.commands, o.accounts);
  bank::outputs read;
  auto result = bank::read_and_check(bootstrap, props, commands,
                                     std::chrono::milliseconds(o.timeout_ms), o.topics, &read);
  std::cout << bank::balance_view(read) << "check: " << result.summary() << "\n";
  for (const auto& p : result.problems) std::cout << "  " << p << "\n";
  std::cout << (result.ok() ? "check: invariants hold" : "check: INVARIANTS BROKEN") << std::endl;
  return result.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options o;
    if (int code = parse(argc, argv, o); code >= 0) return code;
    auto [bootstrap, props] = broker_of(o);
    if (o.mode == "generate") {
      create_topics(o, bootstrap, props);
      generate(o, bootstrap, props);
      std::cout << "generated " << o.commands << " commands for " << o.accounts << " accounts"
                << std::endl;
      return 0;
    }
    if (o.mode == "check") return check(o, bootstrap, props);
    if (o.mode == "service") {
      create_topics(o, bootstrap, props);
      rill::streams_app app(bank::topology(o.topics), app_config(o, bootstrap));
      app.start();
      if (!o.http.empty())
        std::cout << "bank: serving http://" << app.advertised_server() << "/" << std::endl;
      rill::wait_for_shutdown_signal();
      const bool clean = app.close();
      std::cout << "bank: processed " << app.counters().processed << " records" << std::endl;
      return clean ? 0 : 1;
    }
    if (o.mode != "all") throw rill::error("unknown mode " + o.mode);

    std::cout << "bank: " << o.commands << " commands for " << o.accounts
              << " accounts, all in one process on the embedded broker\n"
              << bank::topology(o.topics).describe();
    std::filesystem::remove_all(o.state_dir);
    create_topics(o, bootstrap, props);
    const auto started = std::chrono::steady_clock::now();
    generate(o, bootstrap, props);
    rill::streams_app app(bank::topology(o.topics), app_config(o, bootstrap));
    app.start();
    int code = check(o, bootstrap, props);
    app.close();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    std::cout << "bank: processed " << app.counters().processed << " records in " << ms
              << " ms (including ~3 s to join the consumer group)" << std::endl;
    return code;
  } catch (const std::exception& e) {
    std::cerr << "bank: " << e.what() << std::endl;
    return 1;
  }
}
