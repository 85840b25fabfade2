// hy2bit chat on a real terminal (a tmux pane): libedit line editing (a
// cursor move and an insert), history (Up recalls the last message),
// multi-line input (a trailing backslash, a """ block), /system, /no_think,
// /save and /load, Ctrl-C stopping a reply and Ctrl-D leaving.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/test_support.h"

namespace hy2bit {
namespace {

namespace fs = std::filesystem;
const std::string kTinyQ2 = test::testdata_path("models/hy-tiny-q2_0c.gguf");

// One tmux server (its own socket) running one command in a 200x50 pane.
class Pane {
 public:
  Pane(const std::string& name, const std::string& command) : socket_(test::scratch_dir() + "/tmux-" + name) {
    tmux({"new-session", "-d", "-x", "200", "-y", "50", "-s", "t", command});
  }
  ~Pane() { tmux({"kill-server"}); }

  void keys(const std::vector<std::string>& keys) {
    std::vector<std::string> args = {"send-keys", "-t", "t"};
    args.insert(args.end(), keys.begin(), keys.end());
    tmux(args);
  }
  void type(const std::string& text) { keys({"-l", text}); }
  std::string screen() { return tmux({"capture-pane", "-p", "-t", "t", "-S", "-1000"}).out; }
  // Waits until the screen shows `text` at least `times` times; "> " counts
  // chat's prompts: lines starting with ">" (tmux drops trailing spaces).
  bool wait_for(const std::string& text, size_t times = 1, int seconds = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    const std::string needle = text == "> " ? "\n>" : text;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string s = screen();
      s.insert(s.begin(), '\n');
      size_t n = 0;
      for (size_t at = 0; (at = s.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
      if (n >= times) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // Waits until at least `chars` characters other than blanks follow `line`
  // on the screen: the program has started answering it.
  bool wait_for_text_after(const std::string& line, size_t chars, int seconds = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string s = screen();
      const size_t at = s.find(line);
      if (at != std::string::npos) {
        size_t n = 0;
        for (size_t i = at + line.size(); i < s.size(); ++i) n += s[i] != ' ' && s[i] != '\n';
        if (n >= chars) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  test::CommandResult tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-S", socket_, "-f", "/dev/null"});
    return test::run_program(args, "", 30);
  }
  std::string socket_;
};

bool wait_for_file(const std::string& path, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Waits until `path` holds a whole line: the shell's `echo ... > done`
// creates the file before it writes, so existing is not enough.
bool wait_for_line(const std::string& path, int seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find('\n') != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

std::string chat_command(const std::string& extra, const std::string& done_file) {
  return test::hy2bit_binary() + " chat -m " + kTinyQ2 + " -n 4 -s 3 -t 1 --color off " + extra +
         "; echo \"exit=$?\" > " + done_file;
}

TEST(ChatPty, EditingHistoryMultiLineSaveAndLoad) {
  const std::string dir = test::scratch_dir() + "/chat-pty";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string saved = dir + "/conv.json", resaved = dir + "/conv2.json", done = dir + "/done";
  {
    Pane pane("edit", chat_command("", done));
    ASSERT_TRUE(pane.wait_for("> ")) << pane.screen();
    pane.type("helo");
    pane.keys({"Left", "l", "Enter"});  // the cursor moved back: "hel" + "l" + "o"
    ASSERT_TRUE(pane.wait_for("> ", 2)) << pane.screen();
    pane.keys({"Up", "Enter"});  // history: the same message again
    ASSERT_TRUE(pane.wait_for("> ", 3)) << pane.screen();
    pane.type("first\\");
    pane.keys({"Enter"});
    ASSERT_TRUE(pane.wait_for("...")) << pane.screen();
    pane.type("second");
    pane.keys({"Enter"});
    ASSERT_TRUE(pane.wait_for("> ", 4)) << pane.screen();
    pane.type("\"\"\"");
    pane.keys({"Enter"});
    pane.type("block one");
    pane.keys({"Enter"});
    pane.type("block two");
    pane.keys({"Enter"});
    pane.type("\"\"\"");
    pane.keys({"Enter"});
    ASSERT_TRUE(pane.wait_for("> ", 5)) << pane.screen();
    pane.type("/system be brief");
    pane.keys({"Enter"});
    pane.type("/no_think");
    pane.keys({"Enter"});
    pane.type("/save " + saved);
    pane.keys({"Enter"});
    ASSERT_TRUE(wait_for_file(saved)) << pane.screen();
    pane.keys({"C-d"});
    ASSERT_TRUE(wait_for_line(done)) << pane.screen();
  }
  std::ifstream exit_status(done);
  std::string status;
  std::getline(exit_status, status);
  EXPECT_EQ(status, "exit=0");

  const nlohmann::json conv = read_json(saved);
  ASSERT_TRUE(conv.is_object()) << saved;
  EXPECT_EQ(conv["format"], "hy2bit-chat");
  EXPECT_EQ(conv["thinking"], "off");
  const nlohmann::json& m = conv["messages"];
  ASSERT_EQ(m.size(), 9u) << conv.dump(2);  // system + 4 turns of user and assistant
  EXPECT_EQ(m[0]["role"], "system");
  EXPECT_EQ(m[0]["content"], "be brief");
  EXPECT_EQ(m[1]["content"], "hello");
  EXPECT_EQ(m[3]["content"], "hello");
  EXPECT_EQ(m[5]["content"], "first\nsecond");
  EXPECT_EQ(m[7]["content"], "block one\nblock two");
  EXPECT_EQ(m[2]["role"], "assistant");

  // /load continues that conversation; saving it again gives the same file.
  fs::remove(done);
  {
    Pane pane("load", chat_command("", done));
    ASSERT_TRUE(pane.wait_for("> ")) << pane.screen();
    pane.type("/load " + saved);
    pane.keys({"Enter"});
    ASSERT_TRUE(pane.wait_for("(loaded 9 messages")) << pane.screen();
    pane.type("/save " + resaved);
    pane.keys({"Enter"});
    ASSERT_TRUE(wait_for_file(resaved)) << pane.screen();
    pane.type("/load /no/such/file.json");
    pane.keys({"Enter"});
    ASSERT_TRUE(pane.wait_for("/load: cannot open")) << pane.screen();
    pane.type("/exit");
    pane.keys({"Enter"});
    ASSERT_TRUE(wait_for_line(done)) << pane.screen();
  }
  EXPECT_EQ(read_json(resaved), conv);
}

TEST(ChatPty, CtrlCStopsAReplyAndTheChatGoesOn) {
  const std::string dir = test::scratch_dir() + "/chat-pty-stop";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string done = dir + "/done";
  // A reply that would run for a long time: no end token, a big context.
  Pane pane("stop", test::hy2bit_binary() + " chat -m " + kTinyQ2 + " -c 65536 -t 1 --ignore-eos --color off; echo \"exit=$?\" > " + done);
  ASSERT_TRUE(pane.wait_for("> ")) << pane.screen();
  pane.type("go on forever");
  pane.keys({"Enter"});
  // Ctrl-C only once the reply is streaming: sent earlier, on a loaded
  // machine, it can reach the terminal while the line editor still has it in
  // raw mode (no signal, just a ^C byte nobody reads), and the reply never stops.
  ASSERT_TRUE(pane.wait_for_text_after("go on forever", 20)) << pane.screen();
  pane.keys({"C-c"});
  ASSERT_TRUE(pane.wait_for("(stopped)")) << pane.screen() << "\nexit status file: '" << first_line(done) << "'";
  ASSERT_TRUE(pane.wait_for("> ", 2)) << pane.screen();
  pane.keys({"C-d"});
  ASSERT_TRUE(wait_for_line(done)) << pane.screen();
  EXPECT_EQ(first_line(done), "exit=0");
}

}  // namespace
}  // namespace hy2bit
