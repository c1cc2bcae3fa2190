// The docs keep up with the code: docs/config.md documents every setting rill::config accepts;
// every folder has a README and a row in the root README.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rill/config.hpp>

TEST(docs, config_md_lists_every_setting) {
  std::ifstream in(RILL_SOURCE_DIR "/docs/config.md");
  ASSERT_TRUE(in) << "docs/config.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& key : rill::config::known_keys()) {
    EXPECT_NE(text.str().find("| `" + key + "` |"), std::string::npos)
        << key << " is not in docs/config.md";
  }
}

// Every top-level folder and every folder under src/ has a README, and the root README's
// layout table lists each of them.
TEST(docs, every_folder_has_a_readme_and_a_row_in_the_layout_table) {
  namespace fs = std::filesystem;
  const fs::path root = RILL_SOURCE_DIR;
  std::ifstream in(root / "README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.starts_with(".") || name.starts_with("build")) continue;
    folders.push_back(name);
  }
  for (const auto& e : fs::directory_iterator(root / "src")) {
    if (e.is_directory()) folders.push_back("src/" + e.path().filename().string());
  }
  for (const auto& f : {"tests", "benchmarks", "examples"}) folders.push_back(f);
  for (const auto& f : folders) {
    EXPECT_TRUE(fs::exists(root / f / "README.md")) << f << "/ has no README.md";
    if (f != "src") {
      EXPECT_NE(readme.str().find("| `" + f + "/"), std::string::npos)
          << f << "/ is not in the README's layout table";
    }
  }
}
