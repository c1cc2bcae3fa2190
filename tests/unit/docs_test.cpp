// docs/config.md documents every setting rill::config accepts.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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
