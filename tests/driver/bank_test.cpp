// The flagship bank on the test driver: a command delivered again (at-least-once after a
// crash) is answered as the first time, with the same version, and applied once; a leg that
// comes again after its account has forgotten it is not applied twice. And the per-command
// oracle (bank::replay) catches a wrong answer, a duplicate and an account log out of
// version order, so the crash and kill tests that rely on it can fail.
#include <gtest/gtest.h>

#include <algorithm>

#include <rill/testing/test_driver.hpp>

#include "examples/bank/bank.hpp"
#include "examples/bank/replay.hpp"
#include "examples/bank/scenario.hpp"

namespace {

struct bank_driver {
  rill::testing::test_driver driver{bank::topology(), {}};
  decltype(driver.input_topic<std::string, bank::command>("")) commands =
      driver.input_topic<std::string, bank::command>("bank-commands");
  decltype(driver.output_topic<std::string, bank::event>("")) events =
      driver.output_topic<std::string, bank::event>("bank-events");

  void send(const bank::command& c) { commands.pipe(c.account, c); }
  // "type v<version>" of each event, in order.
  std::vector<std::string> answers() {
    std::vector<std::string> out;
    for (const auto& kv : events.read_key_values_to_list())
      out.push_back(fmt::format("{} {} {} v{}", kv.key, kv.value.command_id, kv.value.type,
                                kv.value.version));
    return out;
  }
  std::int64_t balance(const std::string& account) {
    auto store = driver.key_value_store<std::string, bank::account>("accounts");
    return store.get(account).value_or(bank::account{}).balance;
  }
};

bank::command cmd(std::string id, std::string type, std::string account, std::int64_t amount,
                  std::string target = "") {
  return {std::move(id), std::move(type), std::move(account), std::move(target), amount};
}

}  // namespace

TEST(bank, a_command_delivered_again_is_answered_the_same_and_applied_once) {
  bank_driver b;
  b.send(cmd("c1", "open", "alice", 0));
  b.send(cmd("c2", "deposit", "alice", 500));
  b.send(cmd("c3", "withdraw", "alice", 800));  // rejected: insufficient funds
  EXPECT_EQ(b.answers(), (std::vector<std::string>{"alice c1 opened v1", "alice c2 deposited v2",
                                                   "alice c3 rejected v3"}));
  b.send(cmd("c4", "deposit", "alice", 400));
  // c2 and c3 again, after c4 (a redelivery): the same answers, versions and balance; c3 is
  // not re-judged against the larger balance.
  b.send(cmd("c2", "deposit", "alice", 500));
  b.send(cmd("c3", "withdraw", "alice", 800));
  EXPECT_EQ(b.answers(), (std::vector<std::string>{"alice c4 deposited v4", "alice c2 deposited v2",
                                                   "alice c3 rejected v3"}));
  EXPECT_EQ(b.balance("alice"), 900);
}

TEST(bank, a_transfer_answered_again_credits_its_target_once) {
  bank_driver b;
  b.send(cmd("o1", "open", "alice", 0));
  b.send(cmd("o2", "open", "bob", 0));
  b.send(cmd("d1", "deposit", "alice", 1000));
  b.send(cmd("t1", "transfer", "alice", 300, "bob"));
  // Bob answers more commands than he remembers, then alice answers t1 again (her task
  // reprocessed it after a crash): its credit leg reaches bob once more, long forgotten.
  for (std::size_t i = 0; i < bank::remembered_answers + 4; ++i)
    b.send(cmd(fmt::format("b{}", i), "deposit", "bob", 1));
  b.send(cmd("t1", "transfer", "alice", 300, "bob"));
  const auto answers = b.answers();
  EXPECT_EQ(std::count(answers.begin(), answers.end(), "bob t1 transfer_credited v2"), 1)
      << fmt::format("{}", fmt::join(answers, "\n"));
  EXPECT_EQ(std::count(answers.begin(), answers.end(), "alice t1 transfer_debited v3"), 2);
  EXPECT_EQ(b.balance("alice"), 700);
  EXPECT_EQ(b.balance("bob"), 300 + static_cast<std::int64_t>(bank::remembered_answers) + 4);
}

namespace {

rill::kafka_record<std::string, bank::event> ev(std::string account, std::string id,
                                                std::string type, std::int64_t amount,
                                                std::int64_t version, std::string reason = "") {
  return {
      account, {std::move(id), std::move(type), account, "", amount, std::move(reason), version},
      0,       {},
      0,       0};
}

}  // namespace

TEST(bank_replay, judges_each_answer_in_version_order) {
  const std::vector<bank::command> commands{cmd("c1", "open", "alice", 0),
                                            cmd("c2", "deposit", "alice", 500),
                                            cmd("c3", "withdraw", "alice", 800)};
  bank::outputs right;
  right.events = {ev("alice", "c1", "opened", 0, 1), ev("alice", "c2", "deposited", 500, 2),
                  ev("alice", "c3", "rejected", 800, 3, "insufficient funds")};
  EXPECT_TRUE(bank::replay(commands, right).exact()) << bank::replay(commands, right).summary();

  bank::outputs wrong = right;  // c3 allowed with 500 in the account
  wrong.events[2] = ev("alice", "c3", "withdrawn", 800, 3);
  const auto w = bank::replay(commands, wrong);
  EXPECT_EQ(w.wrong, 1u);
  EXPECT_EQ(w.negative, 1u);
  ASSERT_FALSE(w.problems.empty());
  EXPECT_NE(w.problems.front().find("a correct bank answers rejected|insufficient funds"),
            std::string::npos)
      << w.problems.front();

  bank::outputs wrong_reason = right;
  wrong_reason.events[2].value.reason = "no such account";
  EXPECT_EQ(bank::replay(commands, wrong_reason).wrong, 1u);

  // Sent again after a crash, out of log order: right in version order, but not exact.
  bank::outputs again = right;
  std::swap(again.events[0], again.events[1]);
  again.events.push_back(ev("alice", "c2", "deposited", 500, 2));
  const auto a = bank::replay(commands, again);
  EXPECT_EQ(a.wrong, 0u) << a.summary();
  EXPECT_EQ(a.duplicates, 1u);
  EXPECT_EQ(a.out_of_order, 2u);
  EXPECT_FALSE(a.exact());
}
