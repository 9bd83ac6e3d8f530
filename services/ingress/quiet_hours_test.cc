#include "services/ingress/quiet_hours.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;
using types::v1::PRIORITY_CRITICAL;
using types::v1::PRIORITY_HIGH;
using types::v1::PRIORITY_LOW;
using types::v1::PRIORITY_UNSPECIFIED;

constexpr char kBerlinNumber[] = "+4930123456";       // libphonenumber: Europe/Berlin
constexpr char kTollFreeNumber[] = "+18005550100";    // no one zone: the caller's default
constexpr char kLosAngelesNumber[] = "+14155552671";  // America/Los_Angeles

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

absl::Time At(const std::string& zone, int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilMinute(year, month, day, hour, minute), Zone(zone));
}

QuietHours Parsed(std::string_view windows, std::string_view exempt = "high") {
  absl::StatusOr<QuietHours> parsed = QuietHours::Parse(windows, exempt);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.value_or(QuietHours());
}

TEST(QuietHoursTest, AnAlertInsideTheWindowWaitsForItsEndInTheRecipientsZone) {
  const QuietHours quiet = Parsed("oncall=22:00-07:00@UTC");
  // 23:30 in Berlin: held until 07:00 Berlin time the next morning, whatever the caller's zone.
  const std::optional<QuietHold> hold =
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED,
                 At("Europe/Berlin", 2026, 11, 25, 23, 30));
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until, At("Europe/Berlin", 2026, 11, 26, 7, 0));
  EXPECT_EQ(hold->why, "22:00-07:00 in Europe/Berlin");
  // 03:00 the same night, after midnight: until 07:00 that morning.
  EXPECT_EQ(quiet
                .Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED,
                      At("Europe/Berlin", 2026, 11, 26, 3, 0))
                ->until,
            At("Europe/Berlin", 2026, 11, 26, 7, 0));
}

TEST(QuietHoursTest, OutsideTheWindowNothingWaits) {
  const QuietHours quiet = Parsed("oncall=22:00-07:00");
  for (int hour : {7, 12, 21}) {
    EXPECT_FALSE(quiet
                     .Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED,
                           At("Europe/Berlin", 2026, 11, 25, hour, 0))
                     .has_value())
        << hour;
  }
}

TEST(QuietHoursTest, TheRequestsZoneComesFirstThenTheNumbersThenTheCallersDefault) {
  const QuietHours quiet = Parsed("oncall=22:00-07:00@Asia/Tokyo");
  const absl::Time berlin_midnight = At("Europe/Berlin", 2026, 11, 26, 0, 0);  // 08:00 in Tokyo
  // The request says Tokyo: 08:00 there is outside the window.
  EXPECT_FALSE(
      quiet.Hold("oncall", kBerlinNumber, Zone("Asia/Tokyo"), PRIORITY_UNSPECIFIED, berlin_midnight)
          .has_value());
  // The number says Berlin: midnight there is inside it.
  EXPECT_TRUE(
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED, berlin_midnight)
          .has_value());
  // A toll-free number is in no one zone: the caller's default, Tokyo.
  EXPECT_FALSE(
      quiet.Hold("oncall", kTollFreeNumber, std::nullopt, PRIORITY_UNSPECIFIED, berlin_midnight)
          .has_value());
  const std::optional<QuietHold> tokyo_night =
      quiet.Hold("oncall", kTollFreeNumber, std::nullopt, PRIORITY_UNSPECIFIED,
                 At("Asia/Tokyo", 2026, 11, 26, 23, 0));
  ASSERT_TRUE(tokyo_night.has_value());
  EXPECT_EQ(tokyo_night->why, "22:00-07:00 in Asia/Tokyo");
}

TEST(QuietHoursTest, ADaytimeWindowEndsTheSameDay) {
  const QuietHours quiet = Parsed("*=12:00-13:30:15");
  const std::optional<QuietHold> hold =
      quiet.Hold("anyone", kLosAngelesNumber, std::nullopt, PRIORITY_LOW,
                 At("America/Los_Angeles", 2026, 7, 1, 12, 45));
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until, At("America/Los_Angeles", 2026, 7, 1, 13, 30) + absl::Seconds(15));
  EXPECT_EQ(hold->why, "12:00-13:30:15 in America/Los_Angeles");
}

TEST(QuietHoursTest, TheEndIsLocalTimeAcrossADaylightSavingChange) {
  // Europe's clocks go back at 03:00 on 25 Oct 2026: the night is an hour longer.
  const QuietHours quiet = Parsed("oncall=22:00-07:00");
  const absl::Time evening = At("Europe/Berlin", 2026, 10, 24, 23, 0);
  const std::optional<QuietHold> hold =
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED, evening);
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until, At("Europe/Berlin", 2026, 10, 25, 7, 0));
  EXPECT_EQ(hold->until - evening, absl::Hours(9));
}

TEST(QuietHoursTest, AnEndInTheRepeatedHourIsTheFirstOfItsMomentsAfterTheAlert) {
  // 25 Oct 2026, Berlin: 03:00 summer time becomes 02:00 winter time; 02:00-03:00 happens twice.
  const QuietHours quiet = Parsed("oncall=00:00-02:30");
  const absl::Time second_0215 = absl::FromCivil(absl::CivilMinute(2026, 10, 25, 1, 15),
                                                 absl::UTCTimeZone());  // 02:15 winter time
  const std::optional<QuietHold> hold =
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED, second_0215);
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until, second_0215 + absl::Minutes(15));  // 02:30 winter time
  // Earlier that night, 02:30 summer time comes first.
  const absl::Time first_0100 =
      absl::FromCivil(absl::CivilMinute(2026, 10, 24, 23, 0), absl::UTCTimeZone());
  EXPECT_EQ(
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED, first_0100)->until,
      first_0100 + absl::Minutes(90));
}

TEST(QuietHoursTest, AWindowThatStartsInTheRepeatedHourHoldsThroughItsSecondPass) {
  // 1 Nov 2026, New York: 02:00 daylight time becomes 01:00 standard time; 01:00-02:00 happens
  // twice. Quiet since 01:30 daylight time; 01:10 standard time comes 40 minutes later.
  const QuietHours quiet = Parsed("oncall=01:30-06:00");
  const absl::Time second_0110 =
      absl::FromCivil(absl::CivilMinute(2026, 11, 1, 6, 10), absl::UTCTimeZone());
  const std::optional<QuietHold> hold = quiet.Hold(
      "oncall", kTollFreeNumber, Zone("America/New_York"), PRIORITY_UNSPECIFIED, second_0110);
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until,  // 06:00 standard time
            absl::FromCivil(absl::CivilMinute(2026, 11, 1, 11, 0), absl::UTCTimeZone()));
}

TEST(QuietHoursTest, AnAlertPastTheEndsFirstMomentIsNotHeldUntilItsSecond) {
  // 25 Oct 2026, Berlin: 02:45 summer time, after the window 00:00-02:30 ended at 02:30 summer
  // time; 02:30 winter time comes an hour later but the window is over.
  const QuietHours quiet = Parsed("oncall=00:00-02:30");
  const absl::Time first_0245 =
      absl::FromCivil(absl::CivilMinute(2026, 10, 25, 0, 45), absl::UTCTimeZone());
  EXPECT_FALSE(quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED, first_0245)
                   .has_value());
}

TEST(QuietHoursTest, AnEndInTheSkippedHourIsTheMomentOfTheChange) {
  // 29 Mar 2026, Berlin: 02:00 winter time becomes 03:00 summer time; 02:30 never happens.
  const QuietHours quiet = Parsed("oncall=00:00-02:30");
  const std::optional<QuietHold> hold =
      quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_UNSPECIFIED,
                 At("Europe/Berlin", 2026, 3, 29, 1, 0));
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->until,
            absl::FromCivil(absl::CivilMinute(2026, 3, 29, 1, 0), absl::UTCTimeZone()));
}

TEST(QuietHoursTest, ExemptPrioritiesAndCallersWithoutQuietHoursAreNeverHeld) {
  const absl::Time night = At("Europe/Berlin", 2026, 11, 25, 23, 30);
  const QuietHours quiet = Parsed("oncall=22:00-07:00");
  EXPECT_FALSE(quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_HIGH, night));
  EXPECT_FALSE(quiet.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_CRITICAL, night));
  EXPECT_FALSE(quiet.Hold("billing", kBerlinNumber, std::nullopt, PRIORITY_LOW, night));
  const QuietHours strict = Parsed("oncall=22:00-07:00", "none");
  EXPECT_TRUE(strict.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_CRITICAL, night));
  const QuietHours nobody;
  EXPECT_FALSE(nobody.Hold("oncall", kBerlinNumber, std::nullopt, PRIORITY_LOW, night));
}

TEST(QuietHoursTest, AMistakeIsNamedWithItsEntry) {
  auto error = [](std::string_view windows, std::string_view exempt = "high") {
    return std::string(QuietHours::Parse(windows, exempt).status().message());
  };
  EXPECT_THAT(error("oncall"), HasSubstr("entry \"oncall\": is not caller=HH:MM-HH:MM[@Zone]"));
  EXPECT_THAT(error("oncall=22:00"), HasSubstr("is not a window like 22:00-07:00"));
  EXPECT_THAT(error("oncall=25:00-07:00"), HasSubstr("\"25:00\" is not HH:MM or HH:MM:SS"));
  EXPECT_THAT(error("oncall=7:00-08:00"), HasSubstr("\"7:00\" is not HH:MM"));
  EXPECT_THAT(error("oncall=22:00-22:00"), HasSubstr("starts and ends at the same time"));
  EXPECT_THAT(error("oncall=22:00-07:00@Mars/Base"),
              HasSubstr("\"Mars/Base\" is not an IANA time zone"));
  EXPECT_THAT(error("a=22:00-07:00,a=23:00-06:00"), HasSubstr("already given quiet hours"));
  EXPECT_THAT(error("", "urgent"), HasSubstr("KLAXON_QUIET_HOURS_EXEMPT: \"urgent\""));
}

}  // namespace
}  // namespace klaxon::ingress
