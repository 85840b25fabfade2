// The chat page's HTTP side (src/server/webui): every file the page loads
// is served with its content type, an ETag and no-cache; a matching
// If-None-Match gets 304; the page references nothing outside this server;
// it is open without the API key (the API is not); --no-webui makes / a 404
// that says why. The page's behaviour in a browser is tests/webui's.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/server_test_util.h"
#include "server/webui/embedded_files.h"
#include "support/test_support.h"

namespace hy2bit::server::test {
namespace {

struct Served {
  const char* path;
  const char* content_type;
};

constexpr Served kPageFiles[] = {
    {"/", "text/html; charset=utf-8"},
    {"/index.html", "text/html; charset=utf-8"},
    {"/webui/app.js", "text/javascript; charset=utf-8"},
    {"/webui/style.css", "text/css; charset=utf-8"},
    {"/webui/icon.svg", "image/svg+xml"},
    {"/favicon.ico", "image/svg+xml"},
};

TEST(ServerWebui, ServesEveryFileWithItsTypeAndCacheHeaders) {
  TestServer server;
  auto client = server.client();
  for (const Served& f : kPageFiles) {
    SCOPED_TRACE(f.path);
    httplib::Result r = client->Get(f.path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), f.content_type);
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    const std::string etag = r->get_header_value("ETag");
    ASSERT_EQ(etag.size(), 18u) << etag;  // '"' + 16 hex digits + '"'
    EXPECT_FALSE(r->body.empty());
  }
  httplib::Result page = client->Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(page->body.find("<script src=\"webui/app.js\""), std::string::npos);
  EXPECT_NE(page->body.find("href=\"webui/style.css\""), std::string::npos);
}

TEST(ServerWebui, MatchingEtagGets304) {
  TestServer server;
  auto client = server.client();
  httplib::Result first = client->Get("/webui/app.js");
  ASSERT_TRUE(first);
  const std::string etag = first->get_header_value("ETag");
  for (const std::string& sent : {etag, "W/" + etag, "\"0000000000000000\", " + etag, std::string("*")}) {
    SCOPED_TRACE(sent);
    httplib::Result again = client->Get("/webui/app.js", {{"If-None-Match", sent}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_TRUE(again->body.empty());
    EXPECT_EQ(again->get_header_value("ETag"), etag);
  }
  httplib::Result other = client->Get("/webui/app.js", {{"If-None-Match", "\"0000000000000000\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, first->body);
}

TEST(ServerWebui, EtagsFollowTheBytes) {
  // Each file's tag is its own (a changed file cannot keep an old tag's cache).
  std::set<std::string_view> tags;
  for (const webui::EmbeddedFile& f : webui::embedded_files()) {
    EXPECT_EQ(f.hash.size(), 16u) << f.name;
    tags.insert(f.hash);
  }
  EXPECT_EQ(tags.size(), webui::embedded_files().size());
  EXPECT_GE(webui::embedded_files().size(), 4u);
}

TEST(ServerWebui, UnknownFilesAre404) {
  TestServer server;
  auto client = server.client();
  for (const char* path : {"/webui/missing.js", "/webui/", "/webui/..%2fserver.h", "/webui/../CMakeLists.txt"}) {
    SCOPED_TRACE(path);
    JsonReply r = get_json(*client, path);
    EXPECT_EQ(r.status, 404);
    expect_error_body(r.body, path);
  }
}

TEST(ServerWebui, PageReferencesNothingOutsideThisServer) {
  // No CDN, no font or script from elsewhere: the only absolute URL is SVG's namespace name.
  for (const webui::EmbeddedFile& f : webui::embedded_files()) {
    SCOPED_TRACE(std::string(f.name));
    std::string text(f.bytes);
    const std::string svg_namespace = "http://www.w3.org/2000/svg";
    for (size_t at = text.find(svg_namespace); at != std::string::npos; at = text.find(svg_namespace))
      text.erase(at, svg_namespace.size());
    EXPECT_EQ(text.find("http:"), std::string::npos);
    EXPECT_EQ(text.find("https:"), std::string::npos);
    EXPECT_EQ(text.find("//cdn"), std::string::npos);
    EXPECT_EQ(text.find("innerHTML"), std::string::npos);  // model text goes in as text only
  }
}

TEST(ServerWebui, PageIsOpenWithoutTheApiKeyButTheApiIsNot) {
  ServerOptions options = TestServer::default_options();
  options.api_key = "page-test-key";
  TestServer server(options);
  auto client = server.client();
  for (const Served& f : kPageFiles) {
    httplib::Result r = client->Get(f.path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << f.path;
  }
  EXPECT_EQ(get_json(*client, "/v1/models").status, 401);
  EXPECT_EQ(post_json(*client, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})").status, 401);
  EXPECT_EQ(get_json(*client, "/v1/models", {{"Authorization", "Bearer page-test-key"}}).status, 200);
}

TEST(ServerWebui, TurnedOffTheRootSaysSo) {
  ServerOptions options = TestServer::default_options();
  options.webui = false;
  TestServer server(options);
  auto client = server.client();
  JsonReply root = get_json(*client, "/");
  EXPECT_EQ(root.status, 404);
  expect_error_body(root.body, "/");
  EXPECT_NE(root.body["error"]["message"].get<std::string>().find("--no-webui"), std::string::npos) << root.text;
  for (const char* path : {"/index.html", "/webui/app.js"}) EXPECT_EQ(get_json(*client, path).status, 404) << path;
  EXPECT_EQ(get_json(*client, "/health").status, 200);  // the API is still there
}

TEST(ServerWebui, ServeHelpListsTheSwitch) {
  hy2bit::test::CommandResult r = hy2bit::test::run_hy2bit({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--no-webui"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hy2bit::server::test
