#include "common/twilio/price.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace klaxon::twilio {
namespace {

using ::testing::HasSubstr;

TEST(ParseMicros, ReadsTwilioPricesAndOperatorAmounts) {
  EXPECT_EQ(*ParseMicros("-0.00750"), -7500);
  EXPECT_EQ(*ParseMicros("0.0079"), 7900);
  EXPECT_EQ(*ParseMicros("12"), 12'000'000);
  EXPECT_EQ(*ParseMicros("+3.5"), 3'500'000);
  EXPECT_EQ(*ParseMicros(".5"), 500'000);
  EXPECT_EQ(*ParseMicros("0.000001"), 1);
}

TEST(ParseMicros, RefusesWhatIsNotAnAmountNamingIt) {
  for (const char* bad :
       {"", "-", ".", "1e3", "0.0000001", "1.2.3", "abc", " 1", "99999999999999"}) {
    const absl::StatusOr<int64_t> parsed = ParseMicros(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(absl::StrCat("\"", bad, "\""))) << bad;
  }
}

TEST(FormatMicros, KeepsTwoDecimalsAndDropsTrailingZeros) {
  EXPECT_EQ(FormatMicros(15800), "0.0158");
  EXPECT_EQ(FormatMicros(1'000'000), "1.00");
  EXPECT_EQ(FormatMicros(0), "0.00");
  EXPECT_EQ(FormatMicros(-7500), "-0.0075");
  EXPECT_EQ(FormatMicros(123'456'789), "123.456789");
}

TEST(PriceFor, TakesTheLongestMatchingPrefixElseTheStar) {
  const PrefixPrices prices = {{"+1", 7'900}, {"+1876", 90'000}, {"*", 50'000}};
  EXPECT_EQ(PriceFor(prices, "+14155550100"), 7'900);
  EXPECT_EQ(PriceFor(prices, "+18765550100"), 90'000);
  EXPECT_EQ(PriceFor(prices, "+447700900123"), 50'000);
  EXPECT_EQ(PriceFor({{"+1", 7'900}}, "+447700900123"), 0);
}

TEST(ChargeOf, NegatesTwilioPriceAndUpperCasesTheUnit) {
  const std::optional<Charge> charge = ChargeOf("-0.00790", "usd");
  ASSERT_TRUE(charge.has_value());
  EXPECT_EQ(charge->micros, 7900);
  EXPECT_EQ(charge->currency, "USD");
}

TEST(ChargeOf, IsEmptyUntilTwilioPricedTheResource) {
  EXPECT_FALSE(ChargeOf("", "USD").has_value());
  EXPECT_FALSE(ChargeOf("-0.0079", "").has_value());
  EXPECT_FALSE(ChargeOf("pending", "USD").has_value());
}

}  // namespace
}  // namespace klaxon::twilio
