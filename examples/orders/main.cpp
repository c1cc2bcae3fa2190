// orders: the CQRS orders service (see orders.hpp), with its read model served over HTTP
// and as a page at / (page.hpp).
//
//   orders [all] [--commands N] [--http HOST:PORT] [--serve]
//       everything in one process on the embedded broker: generate, run the service, check
//       the read model its endpoint answers; --serve keeps serving the page until Ctrl-C
//   orders service --properties FILE --http HOST:PORT [--state-dir DIR] [--application-id ID]
//   orders generate --properties FILE [--commands N]
//   orders check --properties FILE --servers HOST:PORT[,HOST:PORT...] [--commands N]
//
// FILE holds bootstrap.servers (and broker.control for a rill broker). check recomputes the
// read model from the event log and compares it with what every server answers, for the
// whole model and key by key; exit code 0 when they agree.
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "orders.hpp"
#include "page.hpp"
#include "scenario.hpp"
#include "tools/cli.hpp"

namespace {

struct options {
  std::string mode = "all";
  std::string properties;
  std::size_t commands = 3000;
  std::size_t customers = 40;
  std::string http = "127.0.0.1:8080";
  std::vector<std::string> servers;
  bool serve = false;
  std::string application_id = "orders";
  std::string state_dir = "/tmp/rill-orders";
  long timeout_ms = 120000;
  orders::topics topics;
};

int parse(int argc, char** argv, options& o) {
  CLI::App app{"The CQRS orders service on Rill: commands -> events -> read model over HTTP",
               "orders"};
  app.add_option("--commands", o.commands, "Commands to generate and check")
      ->check(CLI::PositiveNumber);
  app.add_option("--customers", o.customers, "Customers the orders belong to")
      ->check(CLI::PositiveNumber);
  app.add_option("--http", o.http, "application.server: where the service serves HTTP");
  app.add_option("--servers", o.servers, "check: every instance's HOST:PORT")->delimiter(',');
  app.add_flag("--serve", o.serve, "all: keep serving the page after the check, until Ctrl-C");
  app.add_option("--application-id", o.application_id, "application.id of the service");
  app.add_option("--state-dir", o.state_dir, "state.dir of the service");
  app.add_option("--timeout-ms", o.timeout_ms, "How long check waits for the answers")
      ->check(CLI::PositiveNumber);
  app.add_option("--topic-prefix", o.topics.prefix, "Prefix of every topic name");
  int code = rill::cli::parse_example(app, argc, argv, o.mode,
                                      {"all", "service", "generate", "check"}, o.properties);
  if (code < 0 && o.mode == "check" && o.servers.empty()) {
    std::cerr << "orders: check needs --servers (every instance's HOST:PORT)\n";
    code = 2;
  }
  return code;
}

struct broker {
  std::string bootstrap = "embedded";
  std::map<std::string, std::string> props;
};

broker broker_of(const options& o) {
  if (o.properties.empty()) return {};
  rill::config c = rill::config::from_properties_file(o.properties);
  broker b{c.get_string("bootstrap.servers"), {}};
  if (auto control = c.get("broker.control")) b.props["broker.control"] = *control;
  return b;
}

rill::config app_config(const options& o, const broker& b) {
  rill::config c{{"application.id", o.application_id},
                 {"state.dir", o.state_dir},
                 {"commit.interval.ms", "500"},
                 {"application.server", o.http}};
  if (!o.properties.empty()) {
    const rill::config file = rill::config::from_properties_file(o.properties);
    for (const auto& [k, v] : file.values()) c.set(k, v);
  }
  c.set("bootstrap.servers", b.bootstrap);
  return c;
}

void create_topics(const options& o, const broker& b) {
  for (const auto& t :
       {o.topics.commands(), o.topics.events(), o.topics.customers(), o.topics.enriched()})
    rill::create_topic(b.bootstrap, t, 4, b.props);
}

void generate(const options& o, const broker& b) {
  const orders::plan p = orders::generate(o.commands, o.customers);
  rill::topic_writer<std::string, orders::customer> customers(b.bootstrap, b.props);
  for (const auto& [id, c] : p.customers) customers.send(o.topics.customers(), id, c);
  customers.flush();
  rill::topic_writer<std::string, orders::command> writer(b.bootstrap, b.props);
  for (std::size_t i = 0; i < p.commands.size(); ++i)
    writer.send(o.topics.commands(), p.commands[i].order, p.commands[i],
                orders::first_ms + static_cast<std::int64_t>(i) * orders::step_ms);
  writer.flush();
}

std::string summary(const orders::read_model& m) {
  const auto f = orders::figures(m);
  std::ostringstream out;
  out << "read model: " << m.status.size() << " orders (";
  for (const auto& [s, n] : f.by_status) out << n << " " << s << " ";
  out << "), " << m.customers.size() << " customers, " << m.revenue.size()
      << " product-hours of revenue\n";
  for (const auto& [id, v] : f.top_customers)
    out << "  " << id << "  lifetime value " << orders::money(v) << "\n";
  return out.str();
}

// Reads the event log until every command is answered (or the timeout), checks the answers,
// then compares the read model with every server's, whole and key by key, until they agree.
int check(const options& o, const broker& b) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(o.timeout_ms);
  const orders::plan p = orders::generate(o.commands, o.customers);
  rill::topic_reader<std::string, orders::event> reader(b.bootstrap, o.topics.events(), b.props);
  std::vector<rill::kafka_record<std::string, orders::event>> events;
  std::size_t answered = 0;
  std::vector<std::string> problems;
  do {
    for (auto& e : reader.read(100000, std::chrono::milliseconds(200)))
      events.push_back(std::move(e));
    problems = orders::check_answers(p, events, &answered);
  } while (answered < p.commands.size() && clock::now() < deadline);
  std::cout << "check: " << answered << " of " << p.commands.size() << " commands answered\n";
  const orders::read_model want = orders::recompute(events, p.customers);
  std::cout << summary(want);

  std::set<std::string> served_by;
  std::vector<std::string> differ;
  const auto ask_timeout = std::chrono::seconds(10);
  do {
    differ.clear();
    served_by.clear();
    for (const auto& server : o.servers) {
      try {
        for (auto& d : orders::compare(want, orders::ask(server, ask_timeout)))
          differ.push_back(server + ": " + d);
        std::size_t i = 0;  // every 7th order by key: forwarded where another instance owns it
        for (const auto& [id, state] : want.status) {
          if (i++ % 7 != 0) continue;
          const auto a = orders::ask_order(server, id, ask_timeout);
          served_by.insert(a.served_by);
          if (!(a.state == state))
            differ.push_back(server + ": order " + id + " answered " + a.state.status);
        }
      } catch (const std::exception& e) {
        differ.push_back(e.what());
      }
    }
    if (!differ.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (!differ.empty() && clock::now() < deadline);
  problems.insert(problems.end(), differ.begin(), differ.end());
  std::cout << "check: asked " << o.servers.size() << " instance(s); keys served by "
            << served_by.size() << " instance(s):";
  for (const auto& s : served_by) std::cout << " " << s;
  std::cout << "\n";
  for (const auto& problem : problems) std::cout << "  " << problem << "\n";
  std::cout << (problems.empty() ? "check: the read model matches the event log on every instance"
                                 : "check: READ MODEL DIFFERS")
            << std::endl;
  return problems.empty() ? 0 : 1;
}

std::unique_ptr<rill::streams_app> start_service(const options& o, const broker& b) {
  auto app = std::make_unique<rill::streams_app>(orders::topology(o.topics), app_config(o, b));
  app->add_http_page("/", [](const std::map<std::string, std::string>&) {
    return rill::http_page{200, "text/html; charset=utf-8", orders::page_html};
  });
  app->start();
  std::cout << "orders: serving http://" << app->advertised_server() << "/" << std::endl;
  return app;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options o;
    if (int code = parse(argc, argv, o); code >= 0) return code;
    const broker b = broker_of(o);
    if (o.mode == "generate") {
      create_topics(o, b);
      generate(o, b);
      std::cout << "generated " << o.commands << " commands for " << o.customers << " customers"
                << std::endl;
      return 0;
    }
    if (o.mode == "check") return check(o, b);
    if (o.mode == "service") {
      create_topics(o, b);
      auto app = start_service(o, b);
      rill::wait_for_shutdown_signal();
      return app->close() ? 0 : 1;
    }
    std::cout << "orders: " << o.commands
              << " commands, all in one process on the embedded broker\n"
              << orders::topology(o.topics).describe();
    std::filesystem::remove_all(o.state_dir);
    create_topics(o, b);
    generate(o, b);
    auto app = start_service(o, b);
    o.servers = {app->advertised_server()};
    const int code = check(o, b);
    if (o.serve) {
      std::cout << "orders: open http://" << o.servers.front() << "/ ; Ctrl-C to stop" << std::endl;
      rill::wait_for_shutdown_signal();
    }
    app->close();
    return code;
  } catch (const std::exception& e) {
    std::cerr << "orders: " << e.what() << std::endl;
    return 1;
  }
}
