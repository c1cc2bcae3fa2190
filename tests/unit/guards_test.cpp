// Settings that would silently break a guarantee are refused with a message naming them, a
// process id is held by one live instance, state is private to its owner, and the state
// cleaner never takes a directory from a task that holds it.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <rill/rill.hpp>

#include "src/runtime/app_settings.hpp"
#include "state/state_directory.hpp"

namespace fs = std::filesystem;

namespace {

std::string refusal(const rill::config& cfg) {
  rill::streams_builder b;
  b.stream<std::string, std::string>("in").to("out");
  auto t = b.build();
  try {
    rill::runtime::settings_from(t.compiled(), cfg);
  } catch (const rill::config_error& e) {
    return e.what();
  }
  return "";
}

fs::path fresh_root(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("rill-guards-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

}  // namespace

TEST(guards, auto_commit_is_refused_under_either_guarantee) {
  for (const char* guarantee : {"at_least_once", "exactly_once_v2"}) {
    const std::string why = refusal({{"application.id", "g"},
                                     {"processing.guarantee", guarantee},
                                     {"consumer.enable.auto.commit", "true"}});
    EXPECT_NE(why.find("consumer.enable.auto.commit=true"), std::string::npos) << why;
    EXPECT_NE(why.find("not processed"), std::string::npos) << why;
  }
  EXPECT_EQ(refusal({{"application.id", "g"}, {"consumer.enable.auto.commit", "false"}}), "");
}

TEST(guards, read_uncommitted_is_refused_under_exactly_once_only) {
  const std::string why = refusal({{"application.id", "g"},
                                   {"processing.guarantee", "exactly_once_v2"},
                                   {"consumer.isolation.level", "read_uncommitted"}});
  EXPECT_NE(why.find("consumer.isolation.level=read_uncommitted"), std::string::npos) << why;
  EXPECT_NE(why.find("exactly_once_v2"), std::string::npos) << why;
  EXPECT_EQ(refusal({{"application.id", "g"},
                     {"processing.guarantee", "exactly_once_v2"},
                     {"consumer.isolation.level", "read_committed"}}),
            "");
  EXPECT_EQ(refusal({{"application.id", "g"}, {"consumer.isolation.level", "read_uncommitted"}}),
            "")
      << "at-least-once may read what it likes";
}

TEST(guards, an_explicit_process_id_has_one_live_holder) {
  const fs::path root = fresh_root("pid");
  const rill::config cfg{{"application.id", "g"}, {"process.id", "orders-1"}};
  std::string why;
  {
    rill::runtime::process_identity first(cfg, root.string());
    EXPECT_EQ(first.id(), "orders-1");
    try {
      rill::runtime::process_identity second(cfg, root.string());
    } catch (const rill::config_error& e) {
      why = e.what();
    }
    // Another id on the same directory is fine.
    rill::runtime::process_identity other(
        rill::config{{"application.id", "g"}, {"process.id", "orders-2"}}, root.string());
    EXPECT_EQ(other.id(), "orders-2");
  }
  EXPECT_NE(why.find("process.id=orders-1"), std::string::npos) << why;
  EXPECT_NE(why.find("another live instance"), std::string::npos) << why;
  // Once the first instance is gone, the id is free again.
  rill::runtime::process_identity again(cfg, root.string());
  EXPECT_EQ(again.id(), "orders-1");
  fs::remove_all(root);
}

TEST(guards, state_is_readable_by_its_owner_only) {
  const fs::path root = fresh_root("perms");
  const fs::path app = root / "app";
  {
    rill::runtime::process_identity id(rill::config{{"application.id", "g"}}, app.string());
    rill::state::state_directory dir(app.string());
    auto lock = dir.try_lock("0_1");
    ASSERT_NE(lock, nullptr);
    EXPECT_EQ(mode_of(app), 0700u);
    EXPECT_EQ(mode_of(app / "0_1"), 0700u);
    EXPECT_EQ(mode_of(app / "0_1" / ".lock") & 077, 0u);
    EXPECT_EQ(mode_of(app / "rill-process-id") & 077, 0u);
  }
  fs::remove_all(root);
}

// A task opening its directory while the cleaner deletes idle ones: every time the task
// holds the lock, its directory is there and stays there until it lets go.
TEST(guards, the_cleaner_never_deletes_a_directory_a_task_holds) {
  const fs::path root = fresh_root("clean");
  rill::state::state_directory dir(root.string());
  std::atomic<bool> stop{false};
  std::atomic<int> cleaned{0};
  std::string cleaner_error;
  std::thread cleaner([&] {
    try {
      while (!stop.load())
        cleaned += static_cast<int>(dir.clean(std::chrono::milliseconds(0)).size());
    } catch (const std::exception& e) {
      cleaner_error = e.what();
    }
  });
  int held = 0, lost = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((held < 3000 || cleaned.load() < 300) && std::chrono::steady_clock::now() < until) {
    std::unique_ptr<rill::state::task_lock> lock;
    try {
      lock = dir.try_lock("0_0");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "opening the task's directory failed: " << e.what();
      break;
    }
    if (!lock) continue;
    ++held;
    const fs::path marker = fs::path(lock->dir()) / "marker";
    { std::ofstream(marker.string()) << held; }
    std::error_code ec;
    if (!fs::exists(marker, ec) || !fs::exists(fs::path(lock->dir()) / ".lock", ec)) ++lost;
    fs::remove(marker, ec);
  }
  stop = true;
  cleaner.join();
  std::cout << "held " << held << " times while the cleaner deleted the directory " << cleaned
            << " times" << std::endl;
  EXPECT_GT(held, 100) << "the task got its directory";
  EXPECT_GT(cleaned.load(), 100) << "the cleaner ran between the task's holds";
  EXPECT_EQ(lost, 0) << "a held directory was deleted under its holder";
  EXPECT_EQ(cleaner_error, "");
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_FALSE(e.path().filename().string().starts_with(".deleting-")) << e.path();
  fs::remove_all(root);
}

TEST(guards, an_assignor_that_may_split_a_task_is_refused_for_co_partitioned_topics) {
  rill::streams_builder b;
  auto orders = b.stream<std::string, std::string>("orders");
  auto payments = b.stream<std::string, std::string>("payments");
  orders.merge(payments).to("out");
  const auto joined = b.build();
  rill::streams_builder single;
  single.stream<std::string, std::string>("in").to("out");
  const auto one_topic = single.build();
  for (const char* strategy : {"cooperative-sticky", "roundrobin"}) {
    const std::map<std::string, std::string> consumer{{"partition.assignment.strategy", strategy}};
    try {
      rill::runtime::refuse_split_tasks(joined.compiled(), consumer);
      ADD_FAILURE() << strategy << " was accepted";
    } catch (const rill::config_error& e) {
      const std::string why = e.what();
      EXPECT_NE(why.find(std::string("partition.assignment.strategy=") + strategy),
                std::string::npos)
          << why;
      EXPECT_NE(why.find("orders, payments"), std::string::npos) << why;
      EXPECT_NE(why.find("range"), std::string::npos) << why;
    }
    EXPECT_NO_THROW(rill::runtime::refuse_split_tasks(one_topic.compiled(), consumer))
        << "a subtopology reading one topic has nothing to split";
  }
  EXPECT_NO_THROW(rill::runtime::refuse_split_tasks(joined.compiled(),
                                                    {{"partition.assignment.strategy", "range"}}));
  // The application refuses it before it connects to anything.
  rill::streams_builder again;
  again.stream<std::string, std::string>("orders")
      .merge(again.stream<std::string, std::string>("payments"))
      .to("out");
  EXPECT_THROW(rill::streams_app(again.build(), {{"application.id", "g"},
                                                 {"bootstrap.servers", "embedded"},
                                                 {"consumer.partition.assignment.strategy",
                                                  "cooperative-sticky"}}),
               rill::config_error);
}
