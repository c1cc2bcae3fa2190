// Two servers in one process, each with its own fake backend owning different keys: keys are
// forwarded to their owner in one hop, ranges gathered from both, failures reported.
#include <gtest/gtest.h>

#include "fake_backend.hpp"

#define EXPECT_HAS(body, text) EXPECT_NE((body).find(text), std::string::npos) << (body)

namespace rill::http::testing {
namespace {

using namespace std::chrono_literals;

class HttpForwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    sa = std::make_unique<server>(a, server_options{.forward_timeout = 2s});
    sb = std::make_unique<server>(b, server_options{.forward_timeout = 2s});
    a.set_self(address(*sa));
    b.set_self(address(*sb));
    a.set_others({address(*sb)});
    b.set_others({address(*sa)});
    a.put("counts", "ann", "1");
    a.put("counts", "cat", "3");
    b.put("counts", "bob", "2");
    b.put("counts", "cat", "3");
    b.put("counts", "dan", "4");
    for (auto key : {"bob", "dan"}) a.set_owner(key, address(*sb));
    for (auto key : {"ann", "cat"}) b.set_owner(key, address(*sa));
  }
  fake_backend a, b;
  std::unique_ptr<server> sa, sb;
};

TEST_F(HttpForwarding, AKeyAskedAtTheWrongInstanceIsServedByItsOwner) {
  auto r = get(*sa, "/stores/counts/keys/bob");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"store\":\"counts\",\"key\":\"bob\",\"value\":2,\"served_by\":\"" +
                        address(*sb) + "\"}");
  r = get(*sb, "/stores/counts/keys/ann");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_HAS(r.body, "\"served_by\":\"" + address(*sa) + "\"");
  r = get(*sa, "/stores/counts/keys/ann");  // its own key: served where asked
  EXPECT_HAS(r.body, "\"served_by\":\"" + address(*sa) + "\"");
  EXPECT_EQ(a.key_calls, 2);  // ann, asked at b and at a; each read where it lives
  EXPECT_EQ(b.key_calls, 1);  // bob
}

TEST_F(HttpForwarding, WindowFetchesAreForwardedLikeKeys) {
  auto r = get(*sa, "/stores/counts/keys/dan/windows?from=5&to=6");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_HAS(r.body, "\"windows\":[{\"start\":5,\"end\":6,\"value\":4}]");
  EXPECT_HAS(r.body, "\"served_by\":\"" + address(*sb) + "\"");
}

TEST_F(HttpForwarding, TheOwnersErrorsComeBackAsTheyWere) {
  a.set_owner("eve", address(*sb));
  auto r = get(*sa, "/stores/counts/keys/eve");
  EXPECT_EQ(r.status, 404);
  EXPECT_HAS(r.body, "no key 'eve' in store 'counts' at " + address(*sb));
  b.set_unavailable("counts");
  r = get(*sa, "/stores/counts/keys/eve");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_HAS(r.body, "store 'counts' is restoring");
}

TEST_F(HttpForwarding, TwoInstancesThatEachSayTheOtherOwnsAKeyEndInAnErrorAfterOneHop) {
  a.set_owner("loop", address(*sb));
  b.set_owner("loop", address(*sa));
  int a_before = a.owner_calls, b_before = b.owner_calls;
  auto r = get(*sa, "/stores/counts/keys/loop");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_HAS(r.body, "was forwarded to " + address(*sb) + " by " + address(*sa));
  EXPECT_HAS(r.body, "owner is moving");
  EXPECT_EQ(a.owner_calls - a_before, 1);
  EXPECT_EQ(b.owner_calls - b_before, 1);
}

TEST_F(HttpForwarding, AnUnreachableOwnerIs502) {
  // A port that was just free: nothing listens there.
  std::string nobody;
  {
    fake_backend c;
    server gone(c);
    nobody = address(gone);
  }
  a.set_owner("ghost", nobody);
  auto r = get(*sa, "/stores/counts/keys/ghost");
  EXPECT_EQ(r.status, 502);
  EXPECT_HAS(r.body, "key 'ghost' of store 'counts' is at " + nobody + ", which cannot be reached");
}

TEST_F(HttpForwarding, AnOwnerThatDoesNotAnswerIs504AfterTheForwardTimeout) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor mute(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto mute_address = "127.0.0.1:" + std::to_string(mute.local_endpoint().port());
  a.set_owner("slow", mute_address);  // connects (the backlog takes it), never answers
  auto started = std::chrono::steady_clock::now();
  auto r = get(*sa, "/stores/counts/keys/slow");
  EXPECT_EQ(r.status, 504);
  EXPECT_HAS(r.body, "which did not answer: no answer from " + mute_address + " within 2000 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 9s);
}

TEST_F(HttpForwarding, ARangeIsGatheredFromEveryInstanceInKeyOrder) {
  for (auto* s : {sa.get(), sb.get()}) {
    auto r = get(*s, "/stores/counts?from=b");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_HAS(r.body,
               "\"entries\":[{\"key\":\"bob\",\"value\":2},{\"key\":\"cat\",\"value\":3},"
               "{\"key\":\"dan\",\"value\":4}]");
    EXPECT_HAS(r.body, "\"failed\":[],\"complete\":true");
    EXPECT_HAS(r.body, address(*sa));
    EXPECT_HAS(r.body, address(*sb));
  }
  auto local = get(*sa, "/stores/counts?local=true");
  EXPECT_HAS(local.body,
             "\"entries\":[{\"key\":\"ann\",\"value\":1},{\"key\":\"cat\",\"value\":3}]");
  EXPECT_HAS(local.body, "\"served_by\":[\"" + address(*sa) + "\"]");
}

TEST_F(HttpForwarding, ARangeWithAnInstanceDownIsFlaggedPartial) {
  std::string nobody;
  {
    fake_backend c;
    server gone(c);
    nobody = address(gone);
  }
  a.set_others({address(*sb), nobody});
  b.set_unavailable("counts");
  auto r = get(*sa, "/stores/counts");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-rill-partial"), "true");
  EXPECT_HAS(r.body, "\"entries\":[{\"key\":\"ann\",\"value\":1},{\"key\":\"cat\",\"value\":3}]");
  EXPECT_HAS(r.body, "\"served_by\":[\"" + address(*sa) + "\"]");
  EXPECT_HAS(r.body, "\"instance\":\"" + address(*sb) + "\",\"error\":\"answered 503");
  EXPECT_HAS(r.body, "\"instance\":\"" + nobody + "\"");
  EXPECT_HAS(r.body, "\"complete\":false");
}

}  // namespace
}  // namespace rill::http::testing
