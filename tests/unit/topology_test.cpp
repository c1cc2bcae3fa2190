// The topology compiler: describe() golden text, valid DOT, automatic repartitions, and
// topology_error messages that name the node and the fix.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <rill/streams_builder.hpp>

#include "topology/compiled.hpp"

namespace {

rill::topology two_subtopologies() {
  rill::streams_builder b;
  auto words =
      b.stream<std::string, std::string>("text-input")
          .flat_map_values([](const std::string& l) { return std::vector<std::string>{l}; })
          .select_key([](const std::string&, const std::string& w) { return w; },
                      rill::named("by-word"));
  words.filter([](const std::string&, const std::string& w) { return !w.empty(); })
      .repartition({.name = "words"})
      .map_values([](const std::string& w) { return static_cast<std::int64_t>(w.size()); })
      .to("word-lengths");
  words.to("raw-words");
  return b.build();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rill::topology_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(topology, describe_prints_subtopologies_like_kafka_streams) {
  EXPECT_EQ(two_subtopologies().describe(),
            "Topologies:\n"
            "   Sub-topology: 0\n"
            "    Source: source-0000 (topics: [text-input])\n"
            "      --> flat-map-values-0001\n"
            "    Processor: flat-map-values-0001 (stores: [])\n"
            "      --> by-word\n"
            "      <-- source-0000\n"
            "    Processor: by-word (stores: [])\n"
            "      --> filter-0003, sink-0007\n"
            "      <-- flat-map-values-0001\n"
            "    Processor: filter-0003 (stores: [])\n"
            "      --> words-repartition-sink\n"
            "      <-- by-word\n"
            "    Sink: words-repartition-sink (topic: words-repartition)\n"
            "      <-- filter-0003\n"
            "    Sink: sink-0007 (topic: raw-words)\n"
            "      <-- by-word\n"
            "\n"
            "   Sub-topology: 1\n"
            "    Source: words-repartition-source (topics: [words-repartition])\n"
            "      --> map-values-0005\n"
            "    Processor: map-values-0005 (stores: [])\n"
            "      --> sink-0006\n"
            "      <-- words-repartition-source\n"
            "    Sink: sink-0006 (topic: word-lengths)\n"
            "      <-- map-values-0005\n");
}

TEST(topology, compiled_form_lists_internal_topics_and_subtopology_sources) {
  auto t = two_subtopologies();
  const auto& c = t.compiled();
  ASSERT_EQ(c.subtopologies.size(), 2u);
  ASSERT_EQ(c.internal_topics.size(), 1u);
  EXPECT_EQ(c.internal_topics[0].name, "words-repartition");
  EXPECT_EQ(c.internal_topics[0].written_by, 0);
  EXPECT_EQ(c.internal_topics[0].read_by, 1);
  EXPECT_EQ(rill::detail::resolve_topic("app", c.subtopologies[1].source_topics[0]),
            "app-words-repartition");
}

TEST(topology, to_dot_is_valid_graphviz) {
  auto dir = std::filesystem::temp_directory_path() / ("rill-dot-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "t.dot") << two_subtopologies().to_dot(); }
  const std::string cmd = "dot -Tsvg " + (dir / "t.dot").string() + " -o " +
                          (dir / "t.svg").string() + " 2>" + (dir / "err.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "dot rejected the output";
  std::ifstream svg(dir / "t.svg");
  std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Sub&#45;topology 1"), std::string::npos);
  EXPECT_NE(text.find("words&#45;repartition&#45;source"), std::string::npos);
  std::ifstream err(dir / "err.txt");
  std::string warnings((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_EQ(warnings, "");
  std::filesystem::remove_all(dir);
}

TEST(topology, an_empty_topology_is_an_error) {
  rill::streams_builder b;
  EXPECT_EQ(error_of([&] { b.build(); }),
            "the topology is empty: start it with streams_builder::stream<K, V>(\"topic\")");
}

TEST(topology, duplicate_names_are_errors) {
  rill::streams_builder b;
  auto s = b.stream<std::string, std::string>("in");
  s.filter([](auto&, auto&) { return true; }, rill::named("check"))
      .map_values([](std::string v) { return v; }, rill::named("check"))
      .to("out");
  EXPECT_EQ(error_of([&] { b.build(); }),
            "two nodes are named 'check': the filter at position 1 and the map-values at position "
            "2; give "
            "one of them another name with rill::named(...)");
}

TEST(topology, a_topic_read_twice_is_an_error) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("a");
  b.stream<std::string, std::string>("in").to("b");
  EXPECT_EQ(
      error_of([&] { b.build(); }),
      "topic 'in' is read by two sources, 'source-0000' and 'source-0002'; read it once and reuse "
      "the stream handle (streams can feed several operations)");
}

TEST(topology, a_sink_feeding_its_own_subtopology_is_an_error) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("loop")
      .map_values([](std::string v) { return v + "!"; })
      .to("loop");
  EXPECT_EQ(
      error_of([&] { b.build(); }),
      "sink 'sink-0002' writes topic 'loop', which its own subtopology 0 reads: every record would "
      "come back to the task that wrote it; write another topic, or put a repartition() between "
      "them");
}

namespace {
struct opaque {
  int x = 0;
};
}  // namespace

TEST(topology, a_missing_serde_is_an_error_where_bytes_are_needed) {
  {
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .map_values([](const std::string&) { return opaque{}; })
        .to("out");
    EXPECT_EQ(
        error_of([&] { b.build(); }),
        "sink 'sink-0002' (topic 'out'): no value serde for type '{anonymous}::opaque': pass it in "
        "rill::produced<K, V>{.key_serde = ..., .value_serde = ...} or specialize "
        "rill::serde_traits<T>");
  }
  {
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .select_key([](const std::string&, const std::string&) { return opaque{}; })
        .repartition({.name = "by-opaque"})
        .foreach ([](const opaque&, const std::string&) {});
    EXPECT_EQ(
        error_of([&] { b.build(); }),
        "repartition 'by-opaque': no key serde for type '{anonymous}::opaque': pass serdes in "
        "rill::repartitioned<K, V>{.key_serde = ..., .value_serde = ...}");
  }
  {
    // Without bytes anywhere, a type needs no serde.
    rill::streams_builder b;
    b.stream<std::string, std::string>("in")
        .map_values([](const std::string&) { return opaque{}; })
        .foreach ([](const std::string&, const opaque&) {});
    EXPECT_NO_THROW(b.build());
  }
  {
    rill::streams_builder b;
    EXPECT_EQ(error_of([&] { b.stream<std::string, opaque>("in"); }),
              "source of topic 'in': no value serde for type '{anonymous}::opaque': pass it in "
              "rill::consumed<K, V>{...} or specialize rill::serde_traits<T>");
  }
}

namespace {
// A node that needs co-partitioned input, as grouping and joins will: built on the graph
// directly, the way the DSL's aggregations build theirs.
int add_copartitioned(rill::detail::graph& g, int parent, std::string name) {
  rill::detail::node_spec spec;
  spec.op = "aggregate";
  spec.name = std::move(name);
  spec.parents = {parent};
  spec.needs_copartitioned_input = true;
  spec.repartition =
      rill::detail::make_repartition_parts<std::string, std::string>({}, "pass serdes");
  spec.factory = [](const rill::detail::node_args&) -> std::unique_ptr<rill::detail::node> {
    return nullptr;
  };
  return g.add(std::move(spec));
}
int add_op(rill::detail::graph& g, int parent, std::string op, bool changes_key) {
  rill::detail::node_spec spec;
  spec.op = std::move(op);
  spec.parents = {parent};
  spec.changes_key = changes_key;
  return g.add(std::move(spec));
}
int add_source(rill::detail::graph& g, std::string topic) {
  rill::detail::node_spec spec;
  spec.kind = rill::detail::node_kind::source;
  spec.op = "source";
  spec.topics = {std::move(topic)};
  return g.add(std::move(spec));
}
}  // namespace

TEST(topology, a_key_change_before_a_copartitioned_node_inserts_a_repartition) {
  rill::detail::graph g;
  int src = add_source(g, "in");
  int key_changed = add_op(g, add_op(g, src, "select-key", true), "filter", false);
  add_copartitioned(g, key_changed, "counts");  // after a key change: repartition
  add_copartitioned(g, add_op(g, src, "map-values", false), "totals");  // key unchanged: none
  auto t = g.compile();
  const auto& c = t.compiled();
  ASSERT_EQ(c.internal_topics.size(), 1u);
  EXPECT_EQ(c.internal_topics[0].name, "counts-repartition");
  ASSERT_EQ(c.subtopologies.size(), 2u);
  EXPECT_EQ(
      t.describe().find(
          "Sink: counts-repartition-sink (topic: counts-repartition)\n      <-- filter-0002") !=
          std::string::npos,
      true)
      << t.describe();
  EXPECT_NE(
      t.describe().find(
          "Source: counts-repartition-source (topics: [counts-repartition])\n      --> counts"),
      std::string::npos);
  EXPECT_NE(t.describe().find(
                "Processor: totals (stores: [])\n      --> none\n      <-- map-values-0004"),
            std::string::npos);
}

TEST(topology, an_explicit_repartition_resets_the_key_change) {
  rill::detail::graph g;
  int src = add_source(g, "in");
  int changed = add_op(g, src, "select-key", true);
  rill::detail::node_spec r;
  r.kind = rill::detail::node_kind::repartition;
  r.op = "repartition";
  r.parents = {changed};
  r.repartition = rill::detail::make_repartition_parts<std::string, std::string>({}, "pass serdes");
  int rep = g.add(std::move(r));
  add_copartitioned(g, add_op(g, rep, "peek", false), "counts");
  auto c = g.compile().compiled();
  ASSERT_EQ(c.internal_topics.size(), 1u) << "no second repartition after the explicit one";
  EXPECT_EQ(c.internal_topics[0].name, "repartition-0002-repartition");
}
