// text/base64: RFC 4648's test vectors both ways, round trips of every
// length mod 3, and the malformed inputs the strict decoder refuses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/base64.h"

namespace hy2bit::text {
namespace {

std::string encode(const std::string& s) {
  return base64_encode({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

TEST(Base64, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(encode(plain), coded);
    EXPECT_EQ(base64_decode(coded), plain);
  }
  EXPECT_EQ(encode(""), "");
}

TEST(Base64, EveryByteRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (size_t n : {size_t{254}, size_t{255}, size_t{256}}) EXPECT_EQ(base64_decode(encode(all.substr(0, n))), all.substr(0, n));
}

TEST(Base64, MalformedInputIsRefused) {
  for (const char* bad : {"", "Zg=", "Zg===", "Z===", "Zm9v!A==", "Zg==Zg==", "Zm=v"})
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

}  // namespace
}  // namespace hy2bit::text
