// The download library against a local Hugging Face look-alike (cpp-httplib
// on 127.0.0.1): the repo listing, resolve/main redirecting to a "CDN" path
// with X-Linked-Etag, Range resumes after an interrupted transfer, a wrong
// checksum, 401/404, and offline use of the cache. No other host is contacted.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "download/sha256.h"
#include "download/transfer.h"
#include "hy2bit/download.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

namespace fs = std::filesystem;

std::string sha256_hex(const std::string& s) {
  download::Sha256 h;
  h.update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  return h.hex_digest();
}

// The fake hub: one repo "user/model" with two GGUF files.
class FakeHub {
 public:
  FakeHub() {
    for (int i = 0; i < 300000; ++i) body_ += static_cast<char>('a' + (i * 7) % 26);
    server_.Get("/api/models/user/model/tree/main", [this](const httplib::Request& req, httplib::Response& res) {
      if (require_token_ && req.get_header_value("Authorization") != "Bearer secret") {
        res.status = 401;
        return;
      }
      const std::string oid = sha256_hex(body_);
      res.set_content("[{\"type\":\"file\",\"path\":\"README.md\",\"size\":5},"
                      "{\"type\":\"file\",\"path\":\"model-Q8_0.gguf\",\"size\":" + std::to_string(body_.size()) +
                          ",\"lfs\":{\"oid\":\"" + oid + "\",\"size\":" + std::to_string(body_.size()) + "}},"
                      "{\"type\":\"file\",\"path\":\"model-q2_0c.gguf\",\"size\":" + std::to_string(body_.size()) +
                          ",\"lfs\":{\"oid\":\"" + oid + "\",\"size\":" + std::to_string(body_.size()) + "}}]",
                      "application/json");
    });
    // resolve/main redirects to the CDN path, as the Hub does, with the checksum on the redirect.
    server_.Get(R"(/user/model/resolve/main/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", "/cdn/" + req.matches[1].str());
      res.set_header("X-Linked-Etag", "\"" + (wrong_checksum_ ? std::string(64, '0') : sha256_hex(body_)) + "\"");
    });
    server_.Get(R"(/cdn/(.+))", [this](const httplib::Request& req, httplib::Response& res) { serve_file(req, res); });
    server_.Get("/plain/file.gguf", [this](const httplib::Request& req, httplib::Response& res) { serve_file(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& body() const { return body_; }
  void cut_after(size_t bytes) { cut_after_ = bytes; }
  void wrong_checksum(bool on) { wrong_checksum_ = on; }
  void require_token(bool on) { require_token_ = on; }
  std::string last_range() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_range_;
  }
  int file_requests() const { return file_requests_.load(); }

 private:
  // Serves body_; cpp-httplib itself answers a Range request with a 206 and
  // the requested slice (it calls the provider with absolute offsets).
  // cut_after_ > 0 sends only that many bytes and then drops the connection.
  void serve_file(const httplib::Request& req, httplib::Response& res) {
    file_requests_.fetch_add(1);
    const std::string range = req.get_header_value("Range");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_range_ = range;
    }
    const size_t start = range.rfind("bytes=", 0) == 0 ? std::stoul(range.substr(6)) : 0;
    if (start >= body_.size() && !range.empty()) {
      res.status = 416;
      return;
    }
    res.set_header("ETag", "\"" + sha256_hex(body_) + "\"");
    const size_t cut = cut_after_.exchange(0);
    res.set_content_provider(body_.size(), "application/octet-stream",
                             [this, start, cut](size_t offset, size_t n, httplib::DataSink& sink) {
                               if (cut > 0 && offset >= start + cut) return false;  // drop the connection
                               const size_t send = cut > 0 ? std::min(n, start + cut - offset) : n;
                               sink.write(body_.data() + offset, std::min<size_t>(send, 65536));
                               return true;
                             });
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string body_;
  std::atomic<size_t> cut_after_{0};
  std::atomic<bool> wrong_checksum_{false}, require_token_{false};
  std::atomic<int> file_requests_{0};
  mutable std::mutex mutex_;
  std::string last_range_;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

DownloadOptions options_for(const FakeHub& hub, const std::string& cache) {
  return {.cache_dir = cache, .endpoint = hub.endpoint(), .token = "", .offline = false, .progress = {}};
}

std::string fresh_cache(const std::string& name) {
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  return dir;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Download, ParsesRepoAndTag) {
  Result<HfRepoRef> r = parse_hf_repo("AngelSlim/HY-1.8B-2Bit-GGUF:q2_0c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repo, "AngelSlim/HY-1.8B-2Bit-GGUF");
  EXPECT_EQ(r->tag, "q2_0c");
  for (const char* bad : {"norepo", "a/b/c", "../x", "a/..", "a/b:", "a/b:x/y"}) EXPECT_FALSE(parse_hf_repo(bad).ok()) << bad;
}

TEST(Download, ResolvesTagFollowsRedirectAndChecksTheChecksum) {
  FakeHub hub;
  const std::string cache = fresh_cache("dl-tag");
  uint64_t last_done = 0, last_total = 0;
  DownloadOptions o = options_for(hub, cache);
  o.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
  Result<std::string> path = download_hf_model("user/model:q2_0c", "", o);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_EQ(*path, cache + "/hf/user/model/model-q2_0c.gguf");
  EXPECT_EQ(read_all(*path), hub.body());
  EXPECT_EQ(last_done, hub.body().size());
  EXPECT_EQ(last_total, hub.body().size());
  EXPECT_FALSE(fs::exists(*path + ".partial"));
  // No tag: llama.cpp's default order picks Q8_0 (no Q4_K_M here).
  Result<std::string> q8 = download_hf_model("user/model", "", o);
  ASSERT_TRUE(q8.ok()) << q8.error().message;
  EXPECT_EQ(fs::path(*q8).filename(), "model-Q8_0.gguf");
  // Cached: a second call does not fetch the file again.
  const int requests = hub.file_requests();
  ASSERT_TRUE(download_hf_model("user/model:q2_0c", "", o).ok());
  EXPECT_EQ(hub.file_requests(), requests);
}

TEST(Download, ResumesAnInterruptedTransferWithARange) {
  FakeHub hub;
  const std::string cache = fresh_cache("dl-resume");
  hub.cut_after(100000);
  DownloadOptions o = options_for(hub, cache);
  Result<std::string> first = download_hf_model("user/model", "model-q2_0c.gguf", o);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.error().message.find("run the same command again to resume"), std::string::npos)
      << first.error().message;
  const std::string partial = cache + "/hf/user/model/model-q2_0c.gguf.partial";
  ASSERT_TRUE(fs::exists(partial));
  const uintmax_t have = fs::file_size(partial);
  EXPECT_GT(have, 0u);
  EXPECT_LT(have, hub.body().size());

  Result<std::string> second = download_hf_model("user/model", "model-q2_0c.gguf", o);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(hub.last_range(), "bytes=" + std::to_string(have) + "-");
  EXPECT_EQ(read_all(*second), hub.body());
}

TEST(Download, AWrongChecksumRemovesTheFile) {
  FakeHub hub;
  const std::string cache = fresh_cache("dl-checksum");
  hub.wrong_checksum(true);
  // -mu goes through the same redirect; with no listing, X-Linked-Etag is the checksum.
  Result<std::string> r = download_url(hub.endpoint() + "/user/model/resolve/main/model-Q8_0.gguf", options_for(hub, cache));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("corrupt"), std::string::npos) << r.error().message;
  for (const auto& entry : fs::recursive_directory_iterator(cache))
    EXPECT_FALSE(entry.is_regular_file()) << entry.path();
  hub.wrong_checksum(false);
  Result<std::string> ok = download_url(hub.endpoint() + "/user/model/resolve/main/model-Q8_0.gguf", options_for(hub, cache));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(read_all(*ok), hub.body());
}

TEST(Download, ClearErrorsFor404And401AndNoNetwork) {
  FakeHub hub;
  const std::string cache = fresh_cache("dl-errors");
  DownloadOptions o = options_for(hub, cache);
  Result<std::string> no_repo = download_hf_model("user/missing", "", o);
  ASSERT_FALSE(no_repo.ok());
  EXPECT_NE(no_repo.error().message.find("404"), std::string::npos) << no_repo.error().message;
  Result<std::string> no_file = download_url(hub.endpoint() + "/nothing/here.gguf", o);
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.error().message.find("404 Not Found"), std::string::npos) << no_file.error().message;
  Result<std::string> no_tag = download_hf_model("user/model:Q5_K_M", "", o);
  ASSERT_FALSE(no_tag.ok());
  EXPECT_NE(no_tag.error().message.find("model-q2_0c.gguf"), std::string::npos) << no_tag.error().message;

  hub.require_token(true);
  Result<std::string> gated = download_hf_model("user/model", "", o);
  ASSERT_FALSE(gated.ok());
  EXPECT_NE(gated.error().message.find("HF_TOKEN"), std::string::npos) << gated.error().message;
  o.token = "secret";
  EXPECT_TRUE(download_hf_model("user/model", "", o).ok());

  // A port nothing listens on: a network error that names the way out.
  DownloadOptions dead = o;
  dead.endpoint = "http://127.0.0.1:1";
  Result<std::string> unreachable = download_url("http://127.0.0.1:1/x.gguf", dead);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.error().message.find("--offline"), std::string::npos) << unreachable.error().message;
}

TEST(Download, OfflineUsesTheCache) {
  const std::string cache = fresh_cache("dl-offline");
  {
    FakeHub hub;
    ASSERT_TRUE(download_hf_model("user/model:q2_0c", "", options_for(hub, cache)).ok());
  }
  // The hub is gone: offline mode, and an unreachable endpoint, both use the cached file.
  DownloadOptions o{.cache_dir = cache, .endpoint = "http://127.0.0.1:1", .token = "", .offline = true, .progress = {}};
  Result<std::string> offline = download_hf_model("user/model:q2_0c", "", o);
  ASSERT_TRUE(offline.ok()) << offline.error().message;
  EXPECT_EQ(fs::path(*offline).filename(), "model-q2_0c.gguf");
  o.offline = false;
  EXPECT_TRUE(download_hf_model("user/model:q2_0c", "", o).ok());
  Result<std::string> missing = download_hf_model("user/model:Q8_0", "", {.cache_dir = cache, .endpoint = "",
                                                                          .token = "", .offline = true, .progress = {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cache"), std::string::npos) << missing.error().message;
}

TEST(Download, APlantedSymlinkIsNotWrittenThrough) {
  FakeHub hub;
  const std::string cache = fresh_cache("dl-symlink");
  fs::create_directories(cache + "/hf/user/model");
  const std::string victim = test::scratch_dir() + "/victim.txt";
  std::ofstream(victim) << "keep me";
  fs::create_symlink(victim, cache + "/hf/user/model/model-q2_0c.gguf.partial");
  Result<std::string> r = download_hf_model("user/model:q2_0c", "", options_for(hub, cache));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("symlink"), std::string::npos) << r.error().message;
  EXPECT_EQ(read_all(victim), "keep me");
}

}  // namespace
}  // namespace hy2bit
