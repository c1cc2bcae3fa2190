// The HTTP server's text handling: URL decoding, query strings, JSON strings, and merging
// instances' range answers.
#include <gtest/gtest.h>

#include "src/http/range_merge.hpp"
#include "src/http/server.hpp"
#include "src/http/text.hpp"

namespace rill::http {
namespace {

TEST(HttpText, UrlDecodingTurnsEscapesIntoBytesAndRejectsBadOnes) {
  EXPECT_EQ(detail::url_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(detail::url_decode("a+b", false), "a+b");
  EXPECT_EQ(detail::url_decode("a+b", true), "a b");
  EXPECT_EQ(detail::url_decode("%zz", false), std::nullopt);
  EXPECT_EQ(detail::url_decode("ab%4", false), std::nullopt);
  EXPECT_EQ(detail::url_decode("ab%", false), std::nullopt);
  EXPECT_EQ(detail::url_decode(detail::url_encode("ä /?&=x"), false), "ä /?&=x");
}

TEST(HttpText, QueryStringsAreDecodedAndABadOneIsNamed) {
  std::string bad;
  auto q = detail::parse_query("from=a%20b&to=z&flag&=&local=true", bad);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->at("from"), "a b");
  EXPECT_EQ(q->at("to"), "z");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("local"), "true");
  EXPECT_FALSE(detail::parse_query("from=%G1", bad).has_value());
  EXPECT_EQ(bad, "from=%G1");
}

TEST(HttpText, PathsSplitIntoEncodedSegments) {
  EXPECT_EQ(detail::split_path("/stores/s/keys/a%2Fb"),
            (std::vector<std::string>{"stores", "s", "keys", "a%2Fb"}));
  EXPECT_EQ(detail::split_path("/"), (std::vector<std::string>{""}));
}

TEST(HttpText, JsonStringsAreEscaped) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(json_error(404, "no store 'x'").body, "{\"error\":\"no store 'x'\",\"status\":404}");
}

TEST(HttpText, RangesMergeInKeyOrderWithoutDuplicates) {
  std::vector<std::pair<std::string, std::string>> bad;
  auto merged = detail::merge_ranges(
      {{"a:1", R"({"entries":[{"key":"b","value":2},{"key":"d","value":4}]})"},
       {"b:2",
        R"({"entries":[{"key":"a","value":1},{"key":"b","value":20},{"key":"c","value":3}]})"},
       {"c:3", R"({"entries":[{"key":10,"value":1},{"key":9,"value":1}]})"},
       {"d:4", R"(not json)"},
       {"e:5", R"({"entries":[{"value":1}]})"}},
      bad);
  EXPECT_EQ(merged, R"([{"key":9,"value":1},{"key":10,"value":1},{"key":"a","value":1},)"
                    R"({"key":"b","value":2},{"key":"c","value":3},{"key":"d","value":4}])");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].first, "d:4");
  EXPECT_EQ(bad[1].first, "e:5");
  EXPECT_NE(bad[1].second.find("without a \"key\""), std::string::npos) << bad[1].second;
}

TEST(HttpText, WindowRangesKeepEveryWindowOfAKey) {
  std::vector<std::pair<std::string, std::string>> bad;
  auto merged =
      detail::merge_ranges({{"a:1", R"({"entries":[{"key":"p","start":3600,"end":7200,"value":2},)"
                                    R"({"key":"p","start":0,"end":3600,"value":1}]})"},
                            {"b:2", R"({"entries":[{"key":"p","start":3600,"end":7200,"value":20},)"
                                    R"({"key":"o","start":7200,"end":10800,"value":3}]})"}},
                           bad);
  EXPECT_TRUE(bad.empty());
  EXPECT_EQ(merged, R"([{"key":"o","start":7200,"end":10800,"value":3},)"
                    R"({"key":"p","start":0,"end":3600,"value":1},)"
                    R"({"key":"p","start":3600,"end":7200,"value":2}])")
      << "each (key, window) once, in key then window order";
}

}  // namespace
}  // namespace rill::http
