// topology::describe() (Kafka Streams' TopologyDescription format) and to_dot() (Graphviz).
#include <fmt/format.h>

#include <rill/topology.hpp>

#include "topology/compiled.hpp"

namespace rill {

namespace {

using detail::compiled_node;
using detail::compiled_topology;
using detail::node_kind;

std::string joined_names(const compiled_topology& t, const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ", ";
    out += t.node(id).name;
  }
  return out;
}

std::string joined_topics(const std::vector<detail::topic_ref>& topics) {
  std::string out;
  for (const auto& t : topics) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// A DOT string: quoted, with quotes and backslashes escaped and newlines as DOT's \n.
std::string dot_id(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string topology::describe() const {
  const compiled_topology& t = *_impl;
  std::string out = "Topologies:\n";
  for (const auto& sub : t.subtopologies) {
    if (sub.id > 0) out += "\n";
    out += fmt::format("   Sub-topology: {}\n", sub.id);
    for (int id : sub.nodes) {
      const compiled_node& n = t.node(id);
      switch (n.kind) {
        case node_kind::source:
          out += fmt::format("    Source: {} (topics: [{}])\n", n.name, joined_topics(n.topics));
          out += fmt::format("      --> {}\n",
                             n.children.empty() ? "none" : joined_names(t, n.children));
          break;
        case node_kind::sink:
          out += fmt::format("    Sink: {} (topic: {})\n", n.name,
                             n.topics.empty() ? "<" + n.topic_chooser + ">" : n.topics[0].name);
          out += fmt::format("      <-- {}\n", joined_names(t, n.parents));
          break;
        default:
          out += fmt::format("    Processor: {} (stores: [{}])\n", n.name, joined(n.stores));
          out += fmt::format("      --> {}\n",
                             n.children.empty() ? "none" : joined_names(t, n.children));
          out += fmt::format("      <-- {}\n", joined_names(t, n.parents));
          break;
      }
    }
  }
  // Global tables: read by the global thread on every instance, in no subtopology.
  for (const auto& g : t.globals)
    out +=
        fmt::format("\n   Global store: {} (topic: {}, every instance)\n", g.store.name, g.topic);
  return out;
}

std::string topology::to_dot() const {
  const compiled_topology& t = *_impl;
  std::string out = "digraph topology {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  std::vector<std::string> topics;
  auto topic_node = [&](const detail::topic_ref& ref) {
    std::string id = "topic:" + ref.name;
    if (std::find(topics.begin(), topics.end(), id) == topics.end()) topics.push_back(id);
    return dot_id(id);
  };
  std::string edges;
  for (const auto& sub : t.subtopologies) {
    out +=
        fmt::format("  subgraph cluster_{} {{\n    label=\"Sub-topology {}\";\n", sub.id, sub.id);
    for (int id : sub.nodes) {
      const compiled_node& n = t.node(id);
      const char* shape = n.kind == node_kind::source ? "invhouse"
                          : n.kind == node_kind::sink ? "house"
                                                      : "box";
      out += fmt::format("    {} [shape={}, label={}];\n", dot_id(n.name), shape,
                         dot_id(n.name + "\n(" + n.op + ")"));
      for (int c : n.children)
        edges += fmt::format("  {} -> {};\n", dot_id(n.name), dot_id(t.node(c).name));
      if (n.kind == node_kind::source) {
        for (const auto& tp : n.topics)
          edges += fmt::format("  {} -> {};\n", topic_node(tp), dot_id(n.name));
      } else if (n.kind == node_kind::sink) {
        if (n.topics.empty()) {
          edges += fmt::format("  {} -> {};\n", dot_id(n.name),
                               topic_node({"<" + n.topic_chooser + ">", false}));
        }
        for (const auto& tp : n.topics)
          edges += fmt::format("  {} -> {};\n", dot_id(n.name), topic_node(tp));
      }
      for (const auto& st : n.stores) {
        edges += fmt::format("  {} -> {} [dir=both, style=dashed];\n", dot_id(n.name),
                             dot_id("store:" + st));
        out +=
            fmt::format("    {} [shape=cylinder, label={}];\n", dot_id("store:" + st), dot_id(st));
      }
    }
    out += "  }\n";
  }
  for (const auto& g : t.globals) {
    out += fmt::format("  {} [shape=cylinder, label={}];\n", dot_id("store:" + g.store.name),
                       dot_id(g.store.name + "\n(global)"));
    edges +=
        fmt::format("  {} -> {};\n", topic_node({g.topic, false}), dot_id("store:" + g.store.name));
  }
  for (const auto& id : topics) {
    out += fmt::format("  {} [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label={}];\n",
                       dot_id(id), dot_id(id.substr(6)));
  }
  out += edges;
  out += "}\n";
  return out;
}

}  // namespace rill
