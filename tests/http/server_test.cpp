// The HTTP server on one instance, against a fake backend: every route and status code,
// size limits, timeouts for slow clients, keep-alive, concurrent clients.
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "fake_backend.hpp"

#define EXPECT_HAS(body, text) EXPECT_NE((body).find(text), std::string::npos) << (body)

namespace rill::http::testing {
namespace {

using namespace std::chrono_literals;

class HttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    b.put("counts", "ann", "3");
    b.put("counts", "bob", "{\"n\":5}");
    b.put("counts", "a b/c", "7");
    b.put("counts", "cat", "1");
    b.add_store("empty");
    b.set_unavailable("restoring");
  }
  server& start(server_options o = {}) {
    s = std::make_unique<server>(b, o);
    b.set_self(address(*s));
    return *s;
  }
  fake_backend b;
  std::unique_ptr<server> s;
};

TEST_F(HttpServer, HealthIs200WhileRunningAnd503OtherwiseWithTheState) {
  auto& srv = start();
  auto r = get(srv, "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{\"state\":\"RUNNING\",\"threads\":2}");
  b.is_running = false;
  r = get(srv, "/health");
  EXPECT_EQ(r.status, 503);
  EXPECT_HAS(r.body, "PENDING_SHUTDOWN");
}

TEST_F(HttpServer, TopologyIsServedAsDot) {
  auto r = get(start(), "/topology");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/vnd.graphviz");
  EXPECT_EQ(r.body, "digraph topology { source -> counts; }");
}

TEST_F(HttpServer, TopologySvgGoesThroughGraphvizWhenInstalled) {
  auto r = get(start(), "/topology.svg");
  if (r.status == 503) GTEST_SKIP() << "Graphviz is not installed: " << r.body;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "image/svg+xml");
  EXPECT_HAS(r.body, "<svg");
  EXPECT_HAS(r.body, "counts");
}

TEST_F(HttpServer, TopologySvgIs503WithAReasonWhenDotIsMissing) {
  auto r = get(start({.dot_program = "rill-test-no-such-dot"}), "/topology.svg");
  EXPECT_EQ(r.status, 503);
  EXPECT_HAS(r.body, "rill-test-no-such-dot' is not installed");
  EXPECT_HAS(r.body, "\"status\":503");
}

TEST_F(HttpServer, ADotThatHangsIsKilledAfterItsTimeout) {
  auto dir = std::filesystem::temp_directory_path() / ("rill-http-dot-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto script = dir / "dot";
  std::ofstream(script) << "#!/bin/sh\nexec sleep 30\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto started = std::chrono::steady_clock::now();
  auto r = get(start({.dot_program = script.string(), .dot_timeout = 300ms}), "/topology.svg");
  EXPECT_EQ(r.status, 504);
  EXPECT_HAS(r.body, "did not finish within 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  std::filesystem::remove_all(dir);
}

TEST_F(HttpServer, AKeyIsServedAsJsonSayingWhichInstanceServedIt) {
  auto& srv = start();
  auto r = get(srv, "/stores/counts/keys/bob");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"store\":\"counts\",\"key\":\"bob\",\"value\":{\"n\":5},\"served_by\":\"" +
                        address(srv) + "\"}");
}

TEST_F(HttpServer, KeysAreUrlDecoded) {
  auto r = get(start(), "/stores/counts/keys/a%20b%2Fc");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_HAS(r.body, "\"key\":\"a b/c\",\"value\":7");
}

TEST_F(HttpServer, AMissingKeyIs404) {
  auto r = get(start(), "/stores/counts/keys/zed");
  EXPECT_EQ(r.status, 404);
  EXPECT_HAS(r.body, "no key 'zed' in store 'counts'");
  EXPECT_HAS(r.body, "\"status\":404");
}

TEST_F(HttpServer, AnUnknownStoreIs404NamingIt) {
  auto& srv = start();
  for (auto target : {"/stores/nope/keys/ann", "/stores/nope", "/stores/nope/keys/ann/windows"}) {
    auto r = get(srv, target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_HAS(r.body, "no store named 'nope'");
  }
}

TEST_F(HttpServer, AnUndecodableKeyIs400) {
  auto& srv = start();
  auto r = get(srv, "/stores/counts/keys/%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "undecodable key '%zz'");
  r = get(srv, "/stores/counts/keys/bad:x");  // the backend cannot decode it
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "key 'bad:x' is not a number");
  r = get(srv, "/stores/counts?from=%q");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "undecodable query parameter 'from=%q'");
}

TEST_F(HttpServer, AStoreThatIsRestoringIs503WithRetryAfter) {
  auto r = get(start(), "/stores/restoring/keys/ann");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_HAS(r.body, "store 'restoring' is restoring");
}

TEST_F(HttpServer, ARangeIsServedInKeyOrder) {
  auto& srv = start();
  auto r = get(srv, "/stores/counts?from=an&to=bz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"store\":\"counts\",\"from\":\"an\",\"to\":\"bz\",\"entries\":["
            "{\"key\":\"ann\",\"value\":3},{\"key\":\"bob\",\"value\":{\"n\":5}}],"
            "\"served_by\":[\"" +
                address(srv) + "\"],\"failed\":[],\"complete\":true}");
  r = get(srv, "/stores/counts");
  EXPECT_EQ(r.status, 200);
  EXPECT_HAS(r.body, "\"from\":null,\"to\":null,\"entries\":[{\"key\":\"a b/c\"");
  r = get(srv, "/stores/empty");
  EXPECT_HAS(r.body, "\"entries\":[]");
}

TEST_F(HttpServer, ARangeWithFromAfterToIs400) {
  auto r = get(start(), "/stores/counts?from=z&to=a");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "from 'z' is after to 'a'");
}

TEST_F(HttpServer, WindowsAreFetchedWithTimeBounds) {
  auto& srv = start();
  auto r = get(srv, "/stores/counts/keys/ann/windows?from=1000&to=2000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"store\":\"counts\",\"key\":\"ann\",\"from\":1000,\"to\":2000,\"windows\":"
            "[{\"start\":1000,\"end\":2000,\"value\":3}],\"served_by\":\"" +
                address(srv) + "\"}");
  r = get(srv, "/stores/counts/keys/ann/windows");
  EXPECT_EQ(r.status, 200);
  EXPECT_HAS(r.body, "\"from\":0,\"to\":9223372036854775807");
}

TEST_F(HttpServer, BadWindowBoundsAre400) {
  auto& srv = start();
  auto r = get(srv, "/stores/counts/keys/ann/windows?from=yesterday&to=2000");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "query parameter 'from' is not a time in milliseconds: 'yesterday'");
  r = get(srv, "/stores/counts/keys/ann/windows?from=10&to=12x");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "'to' is not a time in milliseconds");
  r = get(srv, "/stores/counts/keys/ann/windows?from=3000&to=2000");
  EXPECT_EQ(r.status, 400);
  EXPECT_HAS(r.body, "from (3000) is after to (2000)");
}

TEST_F(HttpServer, AnUnknownRouteIs404AndAWrongMethod405WithAllow) {
  auto& srv = start();
  auto r = get(srv, "/nothing/here");
  EXPECT_EQ(r.status, 404);
  EXPECT_HAS(r.body, "no route for GET /nothing/here");
  r = get(srv, "/stores/counts/keys/ann", {}, "DELETE");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
  EXPECT_HAS(r.body, "DELETE is not allowed on /stores/counts/keys/ann");
}

TEST_F(HttpServer, RoutesCanBeAddedForMetricsAndTheLike) {
  auto& srv = start();
  srv.add_route("GET", "/metrics", [](const request&) {
    return response{200, "text/plain; version=0.0.4", "rill_up 1\n", {}};
  });
  srv.add_route("POST", "/echo/{word}", [](const request& req) {
    return response{201, "text/plain", req.params.at("word") + ":" + req.body, {}};
  });
  auto r = get(srv, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4");
  EXPECT_EQ(r.body, "rill_up 1\n");
  client c(address(srv));
  r = c.request("POST", "/echo/hi%21", {}, 10s, "there");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hi!:there");
}

TEST_F(HttpServer, AHandlerThatThrowsIs500WithItsMessage) {
  auto& srv = start();
  srv.add_route("GET", "/boom",
                [](const request&) -> response { throw std::runtime_error("the handler failed"); });
  auto r = get(srv, "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_HAS(r.body, "the handler failed");
}

TEST_F(HttpServer, AnOversizedHeaderIs431AndAnOversizedBody413) {
  auto& srv = start({.header_limit = 1024, .body_limit = 100});
  auto r = get(srv, "/health", {{"X-Padding", std::string(2000, 'x')}});
  EXPECT_EQ(r.status, 431);
  EXPECT_HAS(r.body, "request header larger than 1024 bytes");
  raw_connection raw(srv.port());
  raw.send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
  auto res = raw.read_response();
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_NE(res.body().find("request body larger than 100 bytes"), std::string::npos);
  EXPECT_TRUE(raw.closed_by_server(10s));
}

TEST_F(HttpServer, AMalformedRequestIs400) {
  raw_connection raw(start().port());
  raw.send("GET /health HTTP/9\r\n\r\n");
  auto res = raw.read_response();
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_NE(res.body().find("malformed request"), std::string::npos) << res.body();
}

TEST_F(HttpServer, ConnectionsAreKeptAliveBetweenRequests) {
  raw_connection raw(start().port());
  for (int i = 0; i < 3; ++i) {
    raw.send("GET /stores/counts/keys/ann HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = raw.read_response();
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
  }
  raw.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.read_response().result_int(), 200u);
  EXPECT_TRUE(raw.closed_by_server(10s));
}

TEST_F(HttpServer, SilentAndHalfSentClientsDoNotStopOthersBeingServed) {
  // One thread, and a read timeout far longer than the test waits for an answer: if a slow
  // client held the thread, the requests below would time out.
  auto& srv = start({.threads = 1, .read_timeout = 60s});
  raw_connection silent(srv.port());
  raw_connection half(srv.port());
  half.send("GET /stores/counts/keys/ann HTTP/1.1\r\nHo");
  for (int i = 0; i < 5; ++i) {
    client c(address(srv));
    auto r = c.request("GET", "/stores/counts/keys/ann", {}, 5s);
    EXPECT_EQ(r.status, 200);
  }
}

TEST_F(HttpServer, TheReadTimeoutClosesSilentAndSlowConnections) {
  auto& srv = start({.read_timeout = 300ms});
  raw_connection silent(srv.port());
  raw_connection half(srv.port());
  half.send("GET /health HTTP/1.1\r\nHo");
  EXPECT_TRUE(silent.closed_by_server(10s)) << "a silent client was not cut off";
  EXPECT_TRUE(half.closed_by_server(10s)) << "a half-sent request was not cut off";
  raw_connection idle(srv.port());  // keep-alive idle counts too
  idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read_response().result_int(), 200u);
  EXPECT_TRUE(idle.closed_by_server(10s)) << "an idle keep-alive connection was not closed";
}

TEST_F(HttpServer, ConcurrentClientsAreAllAnswered) {
  auto& srv = start();
  std::vector<std::future<int>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::async(std::launch::async, [&srv] {
      client c(address(srv));
      int ok = 0;
      for (int j = 0; j < 50; ++j) {
        auto r = c.request("GET", j % 2 ? "/stores/counts/keys/ann" : "/stores/counts", {}, 10s);
        ok += r.status == 200 && r.body.find("\"ann\"") != std::string::npos;
      }
      return ok;
    }));
  }
  for (auto& f : clients) {
    ASSERT_EQ(f.wait_for(60s), std::future_status::ready) << "a client did not finish in 60 s";
    EXPECT_EQ(f.get(), 50);
  }
}

TEST_F(HttpServer, StopJoinsAndRefusesNewConnections) {
  auto& srv = start();
  EXPECT_EQ(get(srv, "/health").status, 200);
  auto port = srv.port();
  raw_connection open(port);  // a connection still open when it stops
  srv.stop();
  srv.stop();
  EXPECT_TRUE(open.closed_by_server(10s));
  client c("127.0.0.1:" + std::to_string(port));
  EXPECT_THROW(c.request("GET", "/health", {}, 2s), client_error);
}

TEST_F(HttpServer, StoppingFromAHandlerIsRefusedRatherThanDeadlocking) {
  auto& srv = start();
  srv.add_route("POST", "/stop", [&srv](const request&) -> response {
    srv.stop();
    return {};
  });
  client c(address(srv));
  auto r = c.request("POST", "/stop", {}, 10s);
  EXPECT_EQ(r.status, 500);
  EXPECT_HAS(r.body, "stop() called from a handler");
  EXPECT_EQ(get(srv, "/health").status, 200);
}

TEST(HttpServerBind, AnAddressInUseThrows) {
  fake_backend b;
  server first(b);
  try {
    server second(b, {.port = first.port()});
    ADD_FAILURE() << "a second server listened on the port of the first";
  } catch (const std::system_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace rill::http::testing
