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
  EXPECT_EQ(st.error().message, "cannot write '" + path + "': its folder '" + test::scratch_dir() +
                                    "/no/such/dir': No such file or directory");
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
  EXPECT_EQ(st.error().message, "cannot write '" + path + "': it is a folder, not a regular file");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(fs::is_directory(path));
}

TEST(GgufWriterFailure, ASymlinkPlantedAtTheOldTemporaryNameIsNotWrittenThrough) {
  // The temporary file has an unguessable name and is opened O_EXCL |
  // O_NOFOLLOW, so a symlink planted at OUT.tmp (the old fixed name) leads
  // nowhere: its target keeps its bytes and the output is a regular file.
  const std::string dir = fresh_dir("planted_symlink");
  const std::string path = dir + "/model.gguf";
  const std::string victim = dir + "/victim.txt";
  write_text(victim, "keep me");
  fs::create_symlink(victim, path + ".tmp");
  ASSERT_TRUE(two_tensor_writer(zeros(136)).write(path).ok());
  const std::vector<uint8_t> kept = test::read_bytes(victim);
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "keep me");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(path)));
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
