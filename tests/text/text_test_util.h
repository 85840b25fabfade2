// Helpers shared by the text tests: loading a tokenizer from a GGUF on disk
// (kept alive for the whole test process, since loading is the slow part),
// building one from in-memory metadata, and printing id lists.
#pragma once

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"
#include "text/tokenizer.h"

namespace hy2bit::text::test {

// Loads testdata/<relative> once; fails the test (returns nullptr) on error.
inline const Tokenizer* shared_tokenizer(const std::string& relative) {
  struct Loaded {
    std::unique_ptr<Tokenizer> tokenizer;
    std::string error;
  };
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(relative);
  if (it == cache.end()) {
    Loaded loaded;
    auto mapped = gguf::MappedFile::open(hy2bit::test::testdata_path(relative));
    if (!mapped) {
      loaded.error = mapped.error().message;
    } else {
      auto file = gguf::File::parse((*mapped)->bytes());
      if (!file) {
        loaded.error = file.error().message;
      } else {
        auto tok = Tokenizer::from_gguf(*file);
        if (!tok) {
          loaded.error = tok.error().message;
        } else {
          loaded.tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
        }
      }
    }
    it = cache.emplace(relative, std::move(loaded)).first;
  }
  EXPECT_TRUE(it->second.tokenizer) << relative << ": " << it->second.error;
  return it->second.tokenizer.get();
}

inline const Tokenizer* vocab_tokenizer() { return shared_tokenizer("tokenizer/hy-vocab.gguf"); }

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
  return s.str();
}

// Writes a GGUF holding `metadata` to the scratch folder and parses it back,
// then builds a tokenizer from it. Used to test validation of bad vocabularies.
inline Result<Tokenizer> tokenizer_from_metadata(const std::vector<std::pair<std::string, gguf::OwnedValue>>& metadata,
                                                 const std::string& name) {
  gguf::Writer writer;
  for (const auto& [key, value] : metadata) writer.set(key, value);
  const std::string path = hy2bit::test::scratch_dir() + "/" + name + ".gguf";
  HY2BIT_TRY(writer.write(path));
  static std::vector<std::unique_ptr<gguf::MappedFile>> keep_alive;  // File views point into the mapping
  auto mapped = gguf::MappedFile::open(path);
  if (!mapped) return mapped.error();
  keep_alive.push_back(std::move(*mapped));
  auto file = gguf::File::parse(keep_alive.back()->bytes());
  if (!file) return file.error();
  return Tokenizer::from_gguf(*file);
}

}  // namespace hy2bit::text::test
