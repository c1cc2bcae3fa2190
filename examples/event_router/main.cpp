// event_router: a stateless Rill service over JSON events (see router.hpp).
//
//   event_router [all] [--events N]         everything in one process on the embedded broker:
//                                            create topics, generate, run the service, check
//   event_router service --properties FILE  run the service until SIGINT/SIGTERM
//   event_router generate --properties FILE [--events N]
//   event_router check --properties FILE [--events N] [--timeout-ms T]
//
// Options for every mode: --topic-prefix P (topics are P + "events", ...), --application-id,
// --threads.
//
// FILE holds bootstrap.servers (and broker.control for a rill broker), as rill broker
// --properties writes it. Exit code 0 when the check passes.
#include <cstdio>
#include <cstring>
#include <iostream>

#include "router.hpp"
#include "scenario.hpp"
#include "tools/cli.hpp"

namespace {

struct options {
  std::string mode = "all";
  std::string properties;
  std::size_t events = 5000;
  std::string application_id = "event-router";
  int threads = 1;
  long timeout_ms = 60000;
  event_router::topics topics;
};

// The command line; -1 to go on, else the exit code (0 after --help, 2 when it is bad).
int parse(int argc, char** argv, options& o) {
  CLI::App app{"A stateless Rill service routing JSON events by type, with a dead-letter topic",
               "event_router"};
  app.add_option("--events", o.events, "Events to generate and check")->check(CLI::PositiveNumber);
  app.add_option("--application-id", o.application_id, "application.id of the service");
  app.add_option("--threads", o.threads, "num.stream.threads of the service")
      ->check(CLI::Range(1, 64));
  app.add_option("--timeout-ms", o.timeout_ms, "How long check waits for the output")
      ->check(CLI::PositiveNumber);
  app.add_option("--topic-prefix", o.topics.prefix, "Prefix of every topic name");
  return rill::cli::parse_example(app, argc, argv, o.mode, {"all", "service", "generate", "check"},
                                  o.properties);
}

// bootstrap.servers and the client properties of a broker properties file.
std::pair<std::string, std::map<std::string, std::string>> broker_of(const options& o) {
  if (o.properties.empty()) return {"embedded", {}};
  rill::config c = rill::config::from_properties_file(o.properties);
  std::map<std::string, std::string> props;
  if (auto control = c.get("broker.control")) props["broker.control"] = *control;
  return {c.get_string("bootstrap.servers"), props};
}

// The service's settings: the example's, then everything in the properties file (so a
// deployment can tune e.g. consumer.session.timeout.ms there).
rill::config app_config(const options& o, const std::string& bootstrap,
                        const std::map<std::string, std::string>& props) {
  rill::config c = event_router::settings(o.application_id, o.topics);
  c.set("num.stream.threads", std::to_string(o.threads));
  if (!o.properties.empty()) {
    const rill::config file = rill::config::from_properties_file(o.properties);
    for (const auto& [k, v] : file.values()) c.set(k, v);
  }
  c.set("bootstrap.servers", bootstrap);
  for (const auto& [k, v] : props) c.set(k, v);
  return c;
}

void create_topics(const options& o, const std::string& bootstrap,
                   const std::map<std::string, std::string>& props) {
  rill::create_topic(bootstrap, o.topics.input(), 4, props);
  for (const auto& t : o.topics.outputs()) rill::create_topic(bootstrap, t, 4, props);
}

void generate(const options& o, const std::string& bootstrap,
              const std::map<std::string, std::string>& props) {
  rill::topic_writer<std::string, rill::bytes> writer(bootstrap, props);
  for (const auto& in : event_router::generate(o.events))
    writer.send(o.topics.input(), in.key, rill::to_bytes(in.raw));
  writer.flush();
}

int check(const options& o, const std::string& bootstrap,
          const std::map<std::string, std::string>& props) {
  auto inputs = event_router::generate(o.events);
  auto result = event_router::read_and_check(bootstrap, props, inputs,
                                             std::chrono::milliseconds(o.timeout_ms), o.topics);
  std::cout << "check: " << result.summary() << "\n";
  for (const auto& p : result.problems) std::cout << "  " << p << "\n";
  std::cout << (result.ok() ? "check: OK" : "check: FAILED") << std::endl;
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
      std::cout << "generated " << o.events << " records into '" << o.topics.input() << "'"
                << std::endl;
      return 0;
    }
    if (o.mode == "check") return check(o, bootstrap, props);
    if (o.mode == "service") {
      create_topics(o, bootstrap, props);
      rill::streams_app app(event_router::topology(o.topics), app_config(o, bootstrap, props));
      app.start();
      rill::wait_for_shutdown_signal();
      const bool clean = app.close();
      std::cout << "event_router: processed " << app.counters().processed << " records"
                << std::endl;
      return clean ? 0 : 1;
    }
    if (o.mode != "all") throw rill::error("unknown mode " + o.mode);

    std::cout << "event_router: all in one process on the embedded broker, " << o.events
              << " events\n"
              << event_router::topology(o.topics).describe();
    create_topics(o, bootstrap, props);
    auto started = std::chrono::steady_clock::now();
    generate(o, bootstrap, props);
    rill::streams_app app(event_router::topology(o.topics), app_config(o, bootstrap, props));
    app.start();
    int code = check(o, bootstrap, props);
    app.close();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    std::cout << "event_router: processed " << app.counters().processed << " records in " << ms
              << " ms (including ~3 s to join the consumer group)" << std::endl;
    return code;
  } catch (const std::exception& e) {
    std::cerr << "event_router: " << e.what() << std::endl;
    return 1;
  }
}
