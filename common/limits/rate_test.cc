#include "common/limits/rate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::limits {
namespace {

TEST(RateTest, ParsesCountAndWindow) {
  absl::StatusOr<Rate> rate = ParseRate("5/15m");
  ASSERT_TRUE(rate.ok()) << rate.status();
  EXPECT_EQ(*rate, (Rate{.count = 5, .window = absl::Minutes(15)}));
}

TEST(RateTest, IntervalSpreadsTheWindowOverTheCount) {
  EXPECT_EQ((Rate{.count = 5, .window = absl::Seconds(1)}).Interval(), absl::Milliseconds(200));
}

TEST(RateTest, RefusesZeroCount) {
  EXPECT_EQ(ParseRate("0/1s").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RateTest, RefusesWindowWithoutNumber) {
  EXPECT_EQ(ParseRate("5/h").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RateTest, RefusesSubSecondWindow) {
  EXPECT_EQ(ParseRate("5/500ms").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RateTest, RefusesMissingSlash) {
  EXPECT_EQ(ParseRate("5").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RateTest, LabelsWindowInLargestWholeUnit) {
  EXPECT_EQ((Rate{.count = 5, .window = absl::Minutes(15)}).WindowLabel(), "15m");
  EXPECT_EQ((Rate{.count = 11, .window = absl::Hours(1)}).WindowLabel(), "1h");
  EXPECT_EQ((Rate{.count = 1, .window = absl::Seconds(90)}).WindowLabel(), "90s");
}

TEST(RateTest, DescribesReadably) {
  EXPECT_EQ((Rate{.count = 5, .window = absl::Minutes(15)}).Describe(), "5 per 15 minutes");
  EXPECT_EQ((Rate{.count = 11, .window = absl::Hours(1)}).Describe(), "11 per hour");
}

TEST(RateTest, DescribesWhatIsCounted) {
  EXPECT_EQ((Rate{.count = 100, .window = absl::Minutes(1)}).Describe("alerts"),
            "100 alerts per minute");
}

TEST(RateListTest, ParsesAndSortsByWindow) {
  absl::StatusOr<std::vector<Rate>> rates = ParseRateList("11/1h, 5/15m");
  ASSERT_TRUE(rates.ok()) << rates.status();
  EXPECT_EQ(*rates, (std::vector<Rate>{{.count = 5, .window = absl::Minutes(15)},
                                       {.count = 11, .window = absl::Hours(1)}}));
}

TEST(RateListTest, EmptyTextIsNoLimits) {
  absl::StatusOr<std::vector<Rate>> rates = ParseRateList("");
  ASSERT_TRUE(rates.ok()) << rates.status();
  EXPECT_TRUE(rates->empty());
}

TEST(RateListTest, RefusesTwoRatesOverOneWindow) {
  EXPECT_EQ(ParseRateList("5/1h,6/60m").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NamedRatesTest, ParsesNamesAndDefault) {
  absl::StatusOr<std::map<std::string, Rate>> rates =
      ParseNamedRates("*=1000/1m, pager=20/1s", "QUOTAS");
  ASSERT_TRUE(rates.ok()) << rates.status();
  EXPECT_EQ(*rates,
            (std::map<std::string, Rate>{{"*", {.count = 1000, .window = absl::Minutes(1)}},
                                         {"pager", {.count = 20, .window = absl::Seconds(1)}}}));
}

TEST(NamedRatesTest, RefusesEntryWithoutName) {
  EXPECT_EQ(ParseNamedRates("100/1m", "QUOTAS").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NamedRatesTest, RefusesNameListedTwice) {
  EXPECT_EQ(ParseNamedRates("a=1/1s,a=2/1s", "QUOTAS").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NamedRatesTest, ABadRateIsNamedWithTheVariableAndItsEntry) {
  const absl::Status status = ParseNamedRates("a=1/1s, pager=lots", "QUOTAS").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("QUOTAS: entry \"pager=lots\": a rate"));
}

}  // namespace
}  // namespace klaxon::limits
