// Text helpers of the HTTP server: URL decoding and query strings. Internal to rill_http.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rill::http::detail {

// %XX-decoded text (and '+' as a space when `plus_is_space`, as in a query), or nullopt if
// an escape is not two hex digits.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);
// Every byte but unreserved ones (RFC 3986) as %XX.
std::string url_encode(std::string_view s);
// "a=1&b=x%20y" -> {a:1, b:"x y"}; nullopt names the first undecodable part in `bad`.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view q, std::string& bad);
// "/a/b/" -> {"a", "b", ""}: the segments after the leading '/', still encoded.
std::vector<std::string> split_path(std::string_view path);

}  // namespace rill::http::detail
