// word_count: the classic, on Kafka.
//
//   word_count [all] [--lines N]                   everything in one process on the embedded
//                                                    broker: write N lines, count, check
//   word_count service --properties FILE [--state-dir DIR] [--application-id ID] [--topic-prefix P]
//                                                    run until SIGINT/SIGTERM (topics P +
//                                                    text-input, P + word-count-output)
//
// The check compares the last count of every word with a count made here from the same lines.
#include <iostream>
#include <map>
#include <random>

#include "tools/cli.hpp"
#include "word_count.hpp"

namespace {

std::vector<std::string> make_lines(std::size_t n) {
  static const char* vocabulary[] = {"stream", "table",  "kafka", "rill",      "state",  "store",
                                     "commit", "offset", "task",  "partition", "record", "topic",
                                     "window", "join",   "key",   "value"};
  std::mt19937 rng(42);
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < n; ++i) {
    std::string line;
    for (std::size_t w = 0, words = 3 + rng() % 8; w < words; ++w) {
      if (!line.empty()) line += ' ';
      line += vocabulary[rng() % std::size(vocabulary)];
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = "all";
    std::size_t lines = 10000;
    std::string properties;
    std::string state_dir = "/tmp/rill-word-count";
    std::string app_id = "word-count";
    std::string prefix;
    CLI::App cli{"Word count on Rill", "word_count"};
    cli.add_option("--lines", lines, "Lines to write (all)")->check(CLI::PositiveNumber);
    cli.add_option("--state-dir", state_dir, "state.dir");
    cli.add_option("--application-id", app_id, "application.id");
    cli.add_option("--topic-prefix", prefix, "Prefix of the topic names (service)");
    if (int code = rill::cli::parse_example(cli, argc, argv, mode, {"all", "service"}, properties);
        code >= 0)
      return code;
    rill::config cfg{
        {"application.id", app_id}, {"state.dir", state_dir}, {"commit.interval.ms", "200"}};
    if (!properties.empty()) {
      const rill::config file = rill::config::from_properties_file(properties);
      for (const auto& [k, v] : file.values()) cfg.set(k, v);
    }
    if (mode == "service") {
      rill::streams_app app(
          word_count::topology(prefix + "text-input", prefix + "word-count-output"), cfg);
      app.start();
      rill::wait_for_shutdown_signal();
      const bool clean = app.close();
      std::cout << "word_count: processed " << app.counters().processed << " records" << std::endl;
      return clean ? 0 : 1;
    }

    auto broker = rill::embedded_broker::shared();
    broker.create_topic("text-input", 4);
    broker.create_topic("word-count-output", 4);
    auto input = make_lines(lines);
    std::map<std::string, std::int64_t> expected;
    rill::topic_writer<std::string, std::string> writer("embedded");
    for (std::size_t i = 0; i < input.size(); ++i) {
      writer.send("text-input", "line-" + std::to_string(i), input[i]);
      for (const auto& w : word_count::words(input[i])) ++expected[w];
    }
    writer.flush();
    rill::streams_app app(word_count::topology(), cfg);
    app.start();
    rill::topic_reader<std::string, std::int64_t> reader("embedded", "word-count-output");
    std::map<std::string, std::int64_t> counts;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (counts != expected && std::chrono::steady_clock::now() < deadline) {
      for (auto& r : reader.read(10000, std::chrono::milliseconds(200))) counts[r.key] = r.value;
    }
    app.close();
    for (const auto& [w, n] : expected)
      std::cout << "  " << w << ": " << counts[w] << " (expected " << n << ")\n";
    const bool ok = counts == expected;
    std::cout << "word_count: " << lines << " lines, " << expected.size() << " words, "
              << (ok ? "every count matches" : "COUNTS DIFFER") << std::endl;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "word_count: " << e.what() << std::endl;
    return 1;
  }
}
