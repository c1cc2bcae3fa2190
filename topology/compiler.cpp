// The topology compiler: DSL graph -> compiled_topology.
//
// Passes: check the graph (empty, duplicate names, a topic read twice, stores declared);
// insert a repartition before each node that needs co-partitioned input where an upstream
// operation changed the key; expand every repartition into sink -> internal topic ->
// source, checking serdes where bytes are needed; split into subtopologies (connected
// components); check that no subtopology writes a topic it reads; then list co-partition
// groups and the internal topics (feedback, changelog, repartition).
#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include <rill/detail/graph.hpp>
#include <rill/errors.hpp>
#include <rill/topology.hpp>

#include "topology/compiled.hpp"

namespace rill::detail {

std::string resolve_topic(std::string_view application_id, const topic_ref& t) {
  if (!t.internal) return t.name;
  return fmt::format("{}-{}", application_id, t.name);
}

int compiled_topology::subtopology_of_source(const topic_ref& topic) const {
  for (const auto& s : subtopologies) {
    if (std::find(s.source_topics.begin(), s.source_topics.end(), topic) != s.source_topics.end()) {
      return s.id;
    }
  }
  return -1;
}

const compiled_store* compiled_topology::store(std::string_view name) const {
  for (const auto& s : stores) {
    if (s.spec.name == name) return &s;
  }
  return nullptr;
}

const global_spec* compiled_topology::global(std::string_view store) const {
  for (const auto& g : globals) {
    if (g.store.name == store) return &g;
  }
  return nullptr;
}

const internal_topic_def* compiled_topology::internal_topic(std::string_view name) const {
  for (const auto& t : internal_topics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

std::string describe_kind(const node_spec& n) {
  switch (n.kind) {
    case node_kind::source:
      return "source";
    case node_kind::sink:
      return "sink";
    case node_kind::repartition:
      return "repartition";
    case node_kind::processor:
      return n.op;
  }
  return n.op;
}

void check_names(const std::vector<node_spec>& nodes) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto [it, fresh] = seen.emplace(nodes[i].name, i);
    if (!fresh) {
      const node_spec& first = nodes[it->second];
      throw topology_error(fmt::format(
          "two nodes are named '{}': the {} at position {} and the {} at position {}; give one of "
          "them another name with rill::named(...)",
          nodes[i].name, describe_kind(first), it->second, describe_kind(nodes[i]), i));
    }
  }
}

void check_sources(const std::vector<node_spec>& nodes, const std::vector<global_spec>& globals) {
  std::map<std::string, std::string> reader;
  for (const auto& g : globals) reader.emplace(g.topic, "global table '" + g.store.name + "'");
  for (const auto& n : nodes) {
    if (n.kind != node_kind::source) continue;
    for (const auto& t : n.topics) {
      auto [it, fresh] = reader.emplace(t, n.name);
      if (!fresh) {
        throw topology_error(fmt::format(
            "topic '{}' is read by two sources, '{}' and '{}'; read it once and reuse the stream "
            "handle (streams can feed several operations)",
            t, it->second, n.name));
      }
    }
  }
}

// Inserts a repartition between each node that needs co-partitioned input and each parent
// whose key an upstream operation may have changed since the last source or repartition.
std::vector<node_spec> insert_repartitions(std::vector<node_spec> nodes) {
  std::vector<node_spec> out;
  std::vector<bool> key_changed;            // per node of `out`
  std::vector<int> index_of(nodes.size());  // index in `nodes` -> index in `out`
  auto push = [&](node_spec n, bool changed) {
    out.push_back(std::move(n));
    key_changed.push_back(changed);
    return static_cast<int>(out.size() - 1);
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    node_spec& n = nodes[i];
    for (int& p : n.parents) p = index_of[static_cast<std::size_t>(p)];
    if (n.needs_copartitioned_input) {
      for (std::size_t k = 0; k < n.parents.size(); ++k) {
        if (!key_changed[static_cast<std::size_t>(n.parents[k])]) continue;
        if (!n.repartition) {
          throw topology_error(fmt::format(
              "internal: node '{}' needs a repartition but has no repartition serdes", n.name));
        }
        node_spec r;
        r.kind = node_kind::repartition;
        r.op = "repartition";
        const std::string& base = n.repartition_name.empty() ? n.name : n.repartition_name;
        r.name = n.parents.size() == 1 ? base : fmt::format("{}-{}", base, k);
        r.parents = {n.parents[k]};
        r.repartition = n.repartition;
        n.parents[k] = push(std::move(r), false);
      }
    }
    bool changed = false;
    if (n.kind != node_kind::source && n.kind != node_kind::repartition) {
      changed = n.changes_key;
      for (int p : n.parents) changed = changed || key_changed[static_cast<std::size_t>(p)];
    }
    index_of[i] = push(std::move(n), changed);
  }
  for (auto& n : out) {
    for (int& p : n.copartition_with) p = index_of[static_cast<std::size_t>(p)];
  }
  return out;
}

struct union_find {
  std::vector<int> parent;
  explicit union_find(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) {
    while (parent[static_cast<std::size_t>(x)] != x) {
      x = parent[static_cast<std::size_t>(x)] =
          parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    }
    return x;
  }
  void join(int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[static_cast<std::size_t>(std::max(a, b))] = std::min(a, b);
  }
};

// The lowering of one graph: each pass reads what the ones before it made.
class lowering {
 public:
  lowering(const std::vector<node_spec>& nodes, const std::vector<store_spec>& stores,
           const std::vector<global_spec>& globals)
      : _stores(stores), _specs(insert_repartitions(nodes)) {
    _result->globals = globals;
  }

  std::shared_ptr<compiled_topology> run() {
    expand_nodes();
    check_unique_names();
    link_children();
    split_subtopologies();
    check_no_self_feeding();
    find_copartition_groups();
    add_feedback_topics();
    add_changelog_topics();
    add_repartition_topics();
    return std::move(_result);
  }

 private:
  std::vector<compiled_node>& nodes() { return _result->nodes; }
  compiled_node& node(int i) { return _result->nodes[static_cast<std::size_t>(i)]; }

  // Every spec becomes a compiled node; a repartition becomes sink -> topic -> source.
  void expand_nodes() {
    _index_of.assign(_specs.size(), -1);
    for (std::size_t i = 0; i < _specs.size(); ++i) {
      const node_spec& s = _specs[i];
      std::vector<int> parents;
      for (int p : s.parents) parents.push_back(_index_of[static_cast<std::size_t>(p)]);
      if (s.kind == node_kind::repartition) {
        _index_of[i] = expand_repartition(s, std::move(parents));
        continue;
      }
      if (s.kind == node_kind::sink && !s.missing_serdes.empty()) {
        throw topology_error(fmt::format("sink '{}' (topic '{}'): {}", s.name,
                                         s.topics.empty() ? s.topic_chooser : s.topics[0],
                                         s.missing_serdes.front()));
      }
      compiled_node n;
      n.name = s.name;
      n.kind = s.kind;
      n.op = s.op;
      n.parents = std::move(parents);
      n.factory = s.factory;
      for (const auto& t : s.topics) n.topics.push_back({t, s.internal_topics});
      n.feedback = s.internal_topics;
      n.topic_chooser = s.topic_chooser;
      n.stores = s.stores;
      nodes().push_back(std::move(n));
      _index_of[i] = static_cast<int>(nodes().size() - 1);
    }
  }

  // Returns the index of the source that reads the repartition topic back.
  int expand_repartition(const node_spec& s, std::vector<int> parents) {
    const repartition_parts& parts = *s.repartition;
    if (!parts.missing_serdes.empty()) {
      throw topology_error(
          fmt::format("repartition '{}': {}", s.name, parts.missing_serdes.front()));
    }
    topic_ref topic{s.name + "-repartition", true};
    compiled_node sink;
    sink.name = s.name + "-repartition-sink";
    sink.kind = node_kind::sink;
    sink.op = "sink";
    sink.parents = std::move(parents);
    sink.factory = parts.sink;
    sink.topics = {topic};
    nodes().push_back(std::move(sink));
    compiled_node source;
    source.name = s.name + "-repartition-source";
    source.kind = node_kind::source;
    source.op = "source";
    source.factory = parts.source;
    source.topics = {topic};
    nodes().push_back(std::move(source));
    const int source_index = static_cast<int>(nodes().size() - 1);
    _repartitions.push_back({source_index - 1, source_index, &parts});
    return source_index;
  }

  // Names the expansion generated may collide with the user's.
  void check_unique_names() {
    std::set<std::string> seen;
    for (const auto& n : nodes()) {
      if (!seen.insert(n.name).second) {
        throw topology_error(fmt::format(
            "the name '{}' is taken twice once repartitions are added; rename the node that has "
            "it with rill::named(...)",
            n.name));
      }
    }
  }

  void link_children() {
    for (std::size_t i = 0; i < nodes().size(); ++i) {
      for (int p : nodes()[i].parents) node(p).children.push_back(static_cast<int>(i));
    }
  }

  // Subtopologies: connected components of the parent/child graph; nodes sharing a store
  // belong together too. Numbered by their first node.
  void split_subtopologies() {
    union_find uf(nodes().size());
    std::map<std::string, int> store_owner;
    for (std::size_t i = 0; i < nodes().size(); ++i) {
      for (int p : nodes()[i].parents) uf.join(static_cast<int>(i), p);
      for (const auto& st : nodes()[i].stores) {
        if (_result->global(st) != nullptr) continue;  // any task reads a global table
        auto [it, fresh] = store_owner.emplace(st, static_cast<int>(i));
        if (!fresh) uf.join(static_cast<int>(i), it->second);
      }
    }
    std::map<int, int> component_id;  // root -> subtopology id
    auto& subs = _result->subtopologies;
    for (std::size_t i = 0; i < nodes().size(); ++i) {
      int root = uf.find(static_cast<int>(i));
      auto [it, fresh] = component_id.emplace(root, static_cast<int>(component_id.size()));
      if (fresh) subs.push_back({it->second, {}, {}, {}, {}});
      subtopology_def& sub = subs[static_cast<std::size_t>(it->second)];
      compiled_node& n = nodes()[i];
      n.subtopology = sub.id;
      sub.nodes.push_back(static_cast<int>(i));
      if (n.kind == node_kind::source)
        sub.source_topics.insert(sub.source_topics.end(), n.topics.begin(), n.topics.end());
      if (n.kind == node_kind::sink)
        sub.sink_topics.insert(sub.sink_topics.end(), n.topics.begin(), n.topics.end());
      for (const auto& st : n.stores) {
        if (_result->global(st) != nullptr) continue;
        if (std::find(sub.stores.begin(), sub.stores.end(), st) == sub.stores.end())
          sub.stores.push_back(st);
      }
    }
  }

  // A subtopology writing a topic it reads would feed every record back to itself; only
  // feedback topics do that, on purpose.
  void check_no_self_feeding() {
    for (const auto& sub : _result->subtopologies) {
      for (int i : sub.nodes) {
        const compiled_node& n = node(i);
        if (n.kind != node_kind::sink || n.feedback) continue;
        for (const auto& t : n.topics) {
          if (std::find(sub.source_topics.begin(), sub.source_topics.end(), t) !=
              sub.source_topics.end()) {
            throw topology_error(fmt::format(
                "sink '{}' writes topic '{}', which its own subtopology {} reads: every record "
                "would come back to the task that wrote it; write another topic, or put a "
                "repartition() between them",
                n.name, t.name, sub.id));
          }
        }
      }
    }
  }

  // Co-partition groups: the source topics upstream of each node that needs co-partitioned
  // input (and of the other sides of its join), within its subtopology, in topology order.
  void find_copartition_groups() {
    for (std::size_t i = 0; i < _specs.size(); ++i) {
      if (!_specs[i].needs_copartitioned_input || _index_of[i] < 0) continue;
      std::vector<int> from{_index_of[i]};
      for (int p : _specs[i].copartition_with)
        from.push_back(_index_of[static_cast<std::size_t>(p)]);
      std::vector<topic_ref> topics = upstream_sources(std::move(from));
      if (topics.size() < 2) continue;
      auto& groups =
          _result->subtopologies[static_cast<std::size_t>(node(_index_of[i]).subtopology)]
              .copartition_groups;
      if (std::find(groups.begin(), groups.end(), topics) == groups.end())
        groups.push_back(std::move(topics));
    }
  }

  std::vector<topic_ref> upstream_sources(std::vector<int> from) {
    std::vector<int> stack = std::move(from);
    std::set<int> upstream;  // ordered by position
    while (!stack.empty()) {
      int n = stack.back();
      stack.pop_back();
      if (!upstream.insert(n).second) continue;
      for (int p : node(n).parents) stack.push_back(p);
    }
    std::vector<topic_ref> topics;
    for (int n : upstream) {
      const compiled_node& cn = node(n);
      if (cn.kind != node_kind::source) continue;
      for (const auto& t : cn.topics) {
        if (std::find(topics.begin(), topics.end(), t) == topics.end()) topics.push_back(t);
      }
    }
    return topics;
  }

  // Feedback topics: written and read on purpose by the topology, maybe by one subtopology.
  void add_feedback_topics() {
    for (const auto& source : nodes()) {
      if (source.kind != node_kind::source || !source.feedback) continue;
      auto writer = std::find_if(nodes().begin(), nodes().end(), [&](const compiled_node& n) {
        return n.kind == node_kind::sink && !n.topics.empty() && n.topics[0] == source.topics[0];
      });
      if (writer == nodes().end()) {
        throw topology_error(fmt::format(
            "feedback '{}' is read but nothing writes it; write it with stream.to(feedback)",
            source.topics[0].name));
      }
      internal_topic_def t;
      t.name = source.topics[0].name;
      t.type = internal_topic_def::kind::feedback;
      t.written_by = writer->subtopology;
      t.read_by = source.subtopology;
      _result->internal_topics.push_back(std::move(t));
    }
  }

  // Every store some node uses, with its changelog topic when it logs.
  void add_changelog_topics() {
    for (const auto& spec : _stores) {
      auto user = std::find_if(nodes().begin(), nodes().end(), [&](const compiled_node& n) {
        return std::find(n.stores.begin(), n.stores.end(), spec.name) != n.stores.end();
      });
      if (user == nodes().end()) continue;  // declared, used by no node
      compiled_store cs{spec, user->subtopology, {spec.name + "-changelog", true}};
      if (spec.logging) {
        internal_topic_def t;
        t.name = cs.changelog.name;
        t.type = internal_topic_def::kind::changelog;
        t.written_by = cs.subtopology;
        if (spec.kind != store_kind::key_value) t.retention_ms = spec.retention_ms;
        _result->internal_topics.push_back(std::move(t));
      }
      _result->stores.push_back(std::move(cs));
    }
  }

  void add_repartition_topics() {
    for (const auto& r : _repartitions) {
      internal_topic_def t;
      t.name = node(r.sink).topics[0].name;
      t.type = internal_topic_def::kind::repartition;
      t.partitions = r.parts->partitions;
      t.written_by = node(r.sink).subtopology;
      t.read_by = node(r.source).subtopology;
      _result->internal_topics.push_back(std::move(t));
    }
  }

  struct repartition {
    int sink;
    int source;
    const repartition_parts* parts;
  };

  const std::vector<store_spec>& _stores;
  std::vector<node_spec> _specs;  // with repartitions inserted
  std::shared_ptr<compiled_topology> _result = std::make_shared<compiled_topology>();
  std::vector<int> _index_of;  // spec index -> compiled node index
  std::vector<repartition> _repartitions;
};

// Stores a node names must be declared, with serdes.
void check_stores(const std::vector<node_spec>& nodes, const std::vector<store_spec>& stores,
                  const std::vector<global_spec>& globals) {
  for (const auto& n : nodes) {
    for (const auto& st : n.stores) {
      if (std::any_of(globals.begin(), globals.end(),
                      [&](const global_spec& g) { return g.store.name == st; }))
        continue;
      auto declared = std::find_if(stores.begin(), stores.end(),
                                   [&](const store_spec& s) { return s.name == st; });
      if (declared == stores.end()) {
        throw topology_error(fmt::format(
            "{} '{}' uses store '{}', which is not declared; declare it with "
            "streams_builder::add_state_store(rill::materialized<K, V>{{.name = \"{}\"}})",
            describe_kind(n), n.name, st, st));
      }
      if (!declared->missing_serdes.empty()) {
        throw topology_error(
            fmt::format("store '{}': {}; give one in rill::materialized<K, V>{{...}} or specialize "
                        "rill::serde_traits<T>",
                        st, declared->missing_serdes.front()));
      }
    }
  }
}

}  // namespace

rill::topology graph::compile() const {
  if (_nodes.empty()) {
    throw topology_error(
        "the topology is empty: start it with streams_builder::stream<K, V>(\"topic\")");
  }
  check_names(_nodes);
  check_sources(_nodes, _globals);
  check_stores(_nodes, _stores, _globals);
  return rill::topology(lowering(_nodes, _stores, _globals).run());
}

}  // namespace rill::detail
