#include "bench/recipients.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

TEST(SpreadRecipientTest, StartsAtTheFirstLineOfTheFirstAreaCode) {
  EXPECT_EQ(SpreadRecipient(0), "+14155550000");
  EXPECT_EQ(SpreadRecipient(10'000), "+12125550000");
  EXPECT_EQ(SpreadRecipient(kSpreadRecipients - 1), "+15125559999");
}

TEST(SpreadRecipientTest, WrapsAfterTheLastRecipient) {
  EXPECT_EQ(SpreadRecipient(kSpreadRecipients + 7), SpreadRecipient(7));
}

TEST(SpreadRecipientTest, GivesDistinctNumbersAcrossAreaCodes) {
  std::set<std::string> numbers;
  for (int64_t n = 9'990; n < 10'010; ++n) numbers.insert(SpreadRecipient(n));
  EXPECT_EQ(numbers.size(), 20u);
}

}  // namespace
}  // namespace klaxon::bench
