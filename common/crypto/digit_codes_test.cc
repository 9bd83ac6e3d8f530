#include "common/crypto/digit_codes.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace klaxon::crypto {
namespace {

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

}  // namespace
}  // namespace klaxon::crypto
