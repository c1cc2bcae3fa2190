// Discovery on the embedded broker: two instances of one app (application.server set) learn
// where every key lives through a rebalance. Alone, the first holds every partition; with
// the second, each key's owner — asked of either instance — is the one whose local store
// has the key's count, and either instance's HTTP endpoint answers for every key (the
// other's keys forwarded to it, saying so); after the second closes, the first holds
// everything again.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include <rill/rill.hpp>

#include "examples/word_count/word_count.hpp"
#include "harness.hpp"
#include "src/http/client.hpp"

using namespace rill::test;

namespace {

std::set<std::string> servers(const rill::streams_app& app) {
  std::set<std::string> out;
  for (const auto& m : app.all_metadata())
    if (!m.partitions.empty()) out.insert(m.server());
  return out;
}

// Every partition of `topic` held by exactly one announced instance.
bool covered_once(const rill::streams_app& app, const std::string& topic, int partitions) {
  std::map<int, int> holders;
  for (const auto& m : app.all_metadata())
    for (const auto& p : m.partitions)
      if (p.topic == topic) ++holders[p.number];
  if (static_cast<int>(holders.size()) != partitions) return false;
  for (const auto& [p, n] : holders)
    if (n != 1) return false;
  return true;
}

}  // namespace

TEST(discovery, instances_find_the_owner_of_every_key_through_a_rebalance) {
  cluster c;
  const std::string in = unique("d-text"), out = unique("d-counts"), app_id = unique("d-app");
  c.create_topic(in, 4);
  c.create_topic(out, 4);
  const auto root = std::filesystem::temp_directory_path() / unique("rill-discovery");
  auto config_for = [&](const std::string& server, const std::string& dir) {
    rill::config cfg = c.app_config(app_id);
    cfg.set("commit.interval.ms", "100");
    cfg.set("application.server", server);
    cfg.set("state.dir", (root / dir).string());
    return cfg;
  };
  rill::streams_app a(word_count::topology(in, out), config_for("127.0.0.1:0", "a"));
  EXPECT_THROW((void)a.metadata_for_key("word-counts", std::string("x")), rill::error)
      << "nothing announced before start";
  a.start();
  const std::string host_a = a.advertised_server();
  ASSERT_NE(host_a, "127.0.0.1:0") << "port 0 advertises the port bound";
  ASSERT_TRUE(a.wait_until_running(60s));
  ASSERT_TRUE(wait_for([&] { return covered_once(a, in, 4); }, 30s))
      << "the first instance never announced its partitions";
  EXPECT_EQ(servers(a), (std::set<std::string>{host_a}));
  EXPECT_EQ(a.metadata_for_key("word-counts", std::string("cat")).server(), host_a);

  // Words into the counts, then a second instance: the group splits the partitions.
  const std::vector<std::string> words = {"ant", "bee", "cat",  "dog", "eel",  "fox",
                                          "gnu", "hen", "ibis", "jay", "kiwi", "lark"};
  rill::topic_writer<std::string, std::string> writer(c.bootstrap(), c.props());
  for (const auto& w : words) writer.send(in, w, w);
  writer.flush();
  auto counts_a = a.key_value_store<std::string, std::int64_t>("word-counts");
  ASSERT_TRUE(wait_for(
      [&] {
        try {
          return counts_a.all().size() == words.size();
        } catch (const rill::store_unavailable_error&) {
          return false;
        }
      },
      60s))
      << "the first instance never counted every word";

  rill::streams_app b(word_count::topology(in, out), config_for("127.0.0.1:0", "b"));
  b.start();
  const std::string host_b = b.advertised_server();
  auto counts_b = b.key_value_store<std::string, std::int64_t>("word-counts");
  auto settled = [&] {
    return a.state() == rill::app_state::running && b.state() == rill::app_state::running &&
           covered_once(a, in, 4) && covered_once(b, in, 4) &&
           servers(a) == std::set<std::string>{host_a, host_b} && servers(b) == servers(a);
  };
  ASSERT_TRUE(wait_for(settled, 90s)) << "the two instances never agreed on an assignment";

  // Each key: both instances name the same owner, and the owner's store holds the count
  // (the other's does not). Reads race with nothing: no input is flowing.
  std::set<std::string> owners;
  ASSERT_TRUE(wait_for(
      [&] {
        try {
          owners.clear();
          for (const auto& w : words) {
            const auto ma = a.metadata_for_key("word-counts", w);
            if (ma != b.metadata_for_key("word-counts", w)) return false;
            auto& mine = ma.server() == host_a ? counts_a : counts_b;
            auto& theirs = ma.server() == host_a ? counts_b : counts_a;
            if (mine.get(w) != std::optional<std::int64_t>(1) || theirs.get(w).has_value())
              return false;
            owners.insert(ma.server());
          }
          return true;
        } catch (const rill::store_unavailable_error&) {
          return false;  // a rebalance still settling
        }
      },
      60s))
      << "the owners named do not hold the keys";
  EXPECT_EQ(owners.size(), 2u) << "12 words over 4 partitions should land on both instances";

  // Over HTTP: either instance answers for every word; the owner serves it.
  for (const std::string& server : {host_a, host_b}) {
    rill::http::client web(server);
    for (const auto& w : words) {
      const std::string owner = a.metadata_for_key("word-counts", w).server();
      auto r = web.request("GET", "/stores/word-counts/keys/" + w, {}, 10s);
      EXPECT_EQ(r.status, 200) << server << " " << w << ": " << r.body;
      EXPECT_NE(r.body.find("\"value\":1"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find("\"served_by\":\"" + owner + "\""), std::string::npos)
          << "asked " << server << ", owned by " << owner << ": " << r.body;
    }
    auto all = web.request("GET", "/stores/word-counts", {}, 10s);
    EXPECT_EQ(all.status, 200) << all.body;
    for (const auto& w : words)
      EXPECT_NE(all.body.find("\"key\":\"" + w + "\""), std::string::npos)
          << w << " in " << all.body;
    EXPECT_NE(all.body.find("\"complete\":true"), std::string::npos) << all.body;
    auto missing = web.request("GET", "/stores/no-such-store/keys/x", {}, 10s);
    EXPECT_EQ(missing.status, 404) << missing.body;
    auto health = web.request("GET", "/health", {}, 10s);
    EXPECT_EQ(health.status, 200) << health.body;
  }
  EXPECT_THROW((void)a.metadata_for_key("no-such-store", std::string("x")),
               rill::invalid_store_error);

  // The second instance leaves: its tombstone and the first's new claim give it all back.
  ASSERT_TRUE(b.close(60s));
  ASSERT_TRUE(wait_for(
      [&] {
        return a.state() == rill::app_state::running && covered_once(a, in, 4) &&
               servers(a) == std::set<std::string>{host_a};
      },
      90s))
      << "the first instance never took every partition back";
  for (const auto& w : words) EXPECT_EQ(a.metadata_for_key("word-counts", w).server(), host_a) << w;
  ASSERT_TRUE(a.close(60s));
  std::filesystem::remove_all(root);
}
