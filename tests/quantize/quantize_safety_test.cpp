// Writing the quantized model safely: a planted symlink is not written
// through, the output may not be the input or a special file, an unwritable
// folder fails before any work, and SIGINT/SIGTERM leave no temporary file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "quantize/quantize.h"
#include "runtime/atomic_file.h"
#include "support/test_support.h"

namespace hy2bit::quantize {
namespace {

namespace fs = std::filesystem;
using formats::TypeId;

const std::string kTinyF16 = test::testdata_path("models/hy-tiny-f16.gguf");

std::string fresh_dir(const std::string& name) {
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() || e.is_symlink();
  return n;
}

TEST(QuantizeSafety, APlantedSymlinkAtTheOldTempNameIsNotWrittenThrough) {
  const std::string dir = fresh_dir("q-symlink");
  const std::string victim = dir + "/victim.txt";
  std::ofstream(victim) << "keep me";
  const std::string out = dir + "/out.gguf";
  fs::create_symlink(victim, out + ".tmp");  // what the old writer opened with O_TRUNC
  Result<QuantizeReport> r = quantize_model(kTinyF16, out, {.target = TypeId::kQ8_0, .n_threads = 1});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_all(victim), "keep me");
  EXPECT_EQ(files_in(dir), 3u);  // victim, the symlink, out.gguf: no temporary file left
}

TEST(QuantizeSafety, TheTemporaryNameCannotBeGuessed) {
  const std::string dir = fresh_dir("q-names");
  Result<std::unique_ptr<runtime::AtomicFile>> a = runtime::AtomicFile::create(dir + "/x.gguf");
  Result<std::unique_ptr<runtime::AtomicFile>> b = runtime::AtomicFile::create(dir + "/x.gguf");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->temp_path(), (*b)->temp_path());
  EXPECT_EQ(fs::path((*a)->temp_path()).parent_path(), fs::path(dir));
  EXPECT_GE((*a)->temp_path().size(), dir.size() + 1 + std::string(".x.gguf.0123456789abcdef.tmp").size());
  a->reset();
  EXPECT_EQ(files_in(dir), 1u);  // a's temporary file is gone with it
}

TEST(QuantizeSafety, OutputEqualToInputIsRefused) {
  const std::string dir = fresh_dir("q-same");
  const std::string in = dir + "/model.gguf";
  fs::copy_file(kTinyF16, in);
  const std::string before = read_all(in);
  Result<QuantizeReport> same = quantize_model(in, in, {.target = TypeId::kQ8_0});
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.error().message.find("is the input"), std::string::npos) << same.error().message;
  // The same file under another name (a hard link, a symlink) too.
  fs::create_hard_link(in, dir + "/hard.gguf");
  fs::create_symlink(in, dir + "/soft.gguf");
  EXPECT_FALSE(quantize_model(in, dir + "/hard.gguf", {.target = TypeId::kQ8_0}).ok());
  EXPECT_FALSE(quantize_model(in, dir + "/soft.gguf", {.target = TypeId::kQ8_0}).ok());
  EXPECT_EQ(read_all(in), before);
}

TEST(QuantizeSafety, SpecialFilesAndUnwritableFoldersAreRefusedFirst) {
  const std::string dir = fresh_dir("q-special");
  Result<QuantizeReport> dev = quantize_model(kTinyF16, "/dev/null", {.target = TypeId::kQ8_0});
  ASSERT_FALSE(dev.ok());
  EXPECT_NE(dev.error().message.find("not a regular file"), std::string::npos) << dev.error().message;
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Result<QuantizeReport> f = quantize_model(kTinyF16, fifo, {.target = TypeId::kQ8_0});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("FIFO"), std::string::npos) << f.error().message;
  EXPECT_FALSE(quantize_model(kTinyF16, dir, {.target = TypeId::kQ8_0}).ok());  // a folder
  Result<QuantizeReport> missing = quantize_model(kTinyF16, dir + "/no/such/folder/out.gguf", {.target = TypeId::kQ8_0});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("folder"), std::string::npos) << missing.error().message;
  if (geteuid() != 0) {  // root may write anywhere
    const std::string locked = dir + "/locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_FALSE(quantize_model(kTinyF16, locked + "/out.gguf", {.target = TypeId::kQ8_0}).ok());
    fs::permissions(locked, fs::perms::owner_all);
  }
}

// A child creates a temporary file, installs the cleanup and gets the
// signal: it dies of that signal and the temporary file is gone.
void expect_signal_removes_temp(int signal_number) {
  const std::string dir = fresh_dir("q-signal-" + std::to_string(signal_number));
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    runtime::remove_temp_files_on_signal();
    Result<std::unique_ptr<runtime::AtomicFile>> file = runtime::AtomicFile::create(dir + "/big.gguf");
    if (!file || !(*file)->write(std::string(1 << 16, 'x'))) _exit(2);
    (void)!write(ready[1], "r", 1);
    for (;;) pause();
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  EXPECT_EQ(files_in(dir), 1u);  // the temporary file exists while "quantizing"
  kill(child, signal_number);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal_number) << status;
  EXPECT_EQ(files_in(dir), 0u);
  close(ready[0]);
  close(ready[1]);
}

TEST(QuantizeSafety, SigintAndSigtermRemoveTheTemporaryFile) {
  expect_signal_removes_temp(SIGINT);
  expect_signal_removes_temp(SIGTERM);
}

}  // namespace
}  // namespace hy2bit::quantize
