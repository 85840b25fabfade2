// What happens when writing or mapping fails: the error names the path and
// the reason, no ".tmp" is left behind, and an existing output stays as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::gguf {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TensorBytesFn zeros(size_t n) {
  return [n](std::vector<uint8_t>& out) -> Status {
    out.assign(n, 0);
    return Ok{};
  };
}

Writer two_tensor_writer(TensorBytesFn second) {
  Writer writer;
  writer.set("general.architecture", OwnedValue::string("hunyuan-dense"));
  EXPECT_TRUE(writer.add_tensor("a", formats::TypeId::kF32, {16}, zeros(64)).ok());
  EXPECT_TRUE(writer.add_tensor("b", formats::TypeId::kQ8_0, {32, 4}, std::move(second)).ok());
  return writer;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(GgufWriterFailure, MissingDirectoryNamesPathAndReason) {
  const std::string path = test::scratch_dir() + "/no/such/dir/model.gguf";
  Status st = two_tensor_writer(zeros(136)).write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "cannot create '" + path + ".tmp': No such file or directory");
}

TEST(GgufWriterFailure, WrongTensorSizeLeavesNothingBehind) {
  const std::string dir = fresh_dir("wrong_size");
  const std::string path = dir + "/model.gguf";
  int calls = 0;
  Status st = two_tensor_writer([&calls](std::vector<uint8_t>& out) -> Status {
                ++calls;
                out.assign(135, 0);  // one byte short of 4 blocks of 34
                return Ok{};
              }).write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(st.error().message, "cannot write '" + path +
                                    "': tensor 'b' produced 135 bytes, expected 136 for type q8_0 and shape [32, 4]");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(GgufWriterFailure, FailingTensorSourceKeepsExistingOutput) {
  const std::string dir = fresh_dir("keep_existing");
  const std::string path = dir + "/model.gguf";
  write_text(path, "previous contents");
  Status st = two_tensor_writer([](std::vector<uint8_t>&) -> Status {
                return make_error("source tensor 'b' is unreadable");
              }).write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "cannot write '" + path + "': tensor 'b': source tensor 'b' is unreadable");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const std::vector<uint8_t> kept = test::read_bytes(path);
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "previous contents");

  // Then a good write replaces it, atomically via the .tmp file.
  ASSERT_TRUE(two_tensor_writer(zeros(136)).write(path).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  const std::vector<uint8_t> bytes = test::read_bytes(path);
  Result<File> file = File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->tensors().size(), 2u);
}

TEST(GgufWriterFailure, OutputThatIsADirectory) {
  const std::string dir = fresh_dir("output_is_dir");
  const std::string path = dir + "/model.gguf";
  fs::create_directories(path);
  Status st = two_tensor_writer(zeros(136)).write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot rename '" + path + ".tmp' to '" + path + "'"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(fs::is_directory(path));
}

TEST(GgufWriterFailure, DiskFullNamesThePath) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // Writing to /dev/full fails with ENOSPC; the .tmp suffix makes the path
  // /dev/full.tmp, so use a symlink named X whose X.tmp points at /dev/full.
  const std::string dir = fresh_dir("disk_full");
  const std::string path = dir + "/model.gguf";
  fs::create_symlink("/dev/full", path + ".tmp");
  Status st = two_tensor_writer(zeros(136)).write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "cannot write '" + path + ".tmp': No space left on device");
  EXPECT_FALSE(fs::exists(path));
}

TEST(GgufMappedFile, ErrorsNameThePath) {
  const std::string missing = test::scratch_dir() + "/missing.gguf";
  Result<std::unique_ptr<MappedFile>> m = MappedFile::open(missing);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "cannot open '" + missing + "': No such file or directory");
  const std::string dir = fresh_dir("a_dir");
  m = MappedFile::open(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("'" + dir + "'"), std::string::npos);
  EXPECT_NE(m.error().message.find("directory"), std::string::npos);
}

TEST(GgufMappedFile, EmptyFileMapsToEmptySpanAndFailsToParse) {
  const std::string path = fresh_dir("empty") + "/empty.gguf";
  write_text(path, "");
  Result<std::unique_ptr<MappedFile>> m = MappedFile::open(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE((*m)->bytes().empty());
  EXPECT_EQ((*m)->path(), path);
  Result<File> file = File::parse((*m)->bytes());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().message, "the file is empty (0 bytes), expected a GGUF file");
}

TEST(GgufMappedFile, MapsTheWholeFile) {
  const std::string path = fresh_dir("whole") + "/text.bin";
  write_text(path, "GGUF but not really");
  Result<std::unique_ptr<MappedFile>> m = MappedFile::open(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  const std::span<const uint8_t> bytes = (*m)->bytes();
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "GGUF but not really");
  EXPECT_FALSE(File::parse(bytes).ok());
}

}  // namespace
}  // namespace hy2bit::gguf
