#include "services/ingress/verification/verification_code.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace klaxon::ingress::verification {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";
constexpr char kId[] = "0190a1b2-0000-7000-8000-000000000001";

TEST(CsprngCodeSourceTest, MintsDigitsOfTheLengthAskedWithEveryDigitAboutEquallyLikely) {
  CsprngCodeSource source;
  std::array<int, 10> seen{};
  for (int i = 0; i < 2'000; ++i) {
    absl::StatusOr<std::string> code = source.Mint(10);
    ASSERT_TRUE(code.ok()) << code.status();
    ASSERT_EQ(code->size(), 10u);
    for (char digit : *code) {
      ASSERT_TRUE(digit >= '0' && digit <= '9') << *code;
      ++seen[static_cast<size_t>(digit - '0')];
    }
  }
  // 20,000 digits: 2,000 each expected, a standard deviation of about 42.
  for (int count : seen) {
    EXPECT_GT(count, 1'750);
    EXPECT_LT(count, 2'250);
  }
}

TEST(CodeDigestTest, MatchesOnlyTheSameCodeOfTheSameVerification) {
  const std::string digest = CodeDigest(kKey, kId, "482913");
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_EQ(digest.find("482913"), std::string::npos);
  EXPECT_TRUE(CodeMatches(kKey, kId, "482913", digest));
  EXPECT_FALSE(CodeMatches(kKey, kId, "482914", digest));
  EXPECT_FALSE(CodeMatches(kKey, "0190a1b2-0000-7000-8000-000000000002", "482913", digest));
  EXPECT_FALSE(CodeMatches("another key, just as long as one", kId, "482913", digest));
  EXPECT_FALSE(CodeMatches(kKey, kId, "482913", digest.substr(1)));
}

}  // namespace
}  // namespace klaxon::ingress::verification
