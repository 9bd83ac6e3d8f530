#include "common/phone/time_zone.h"

#include <gtest/gtest.h>

namespace klaxon::phone {
namespace {

TEST(TimeZoneOfTest, AnAreaCodeNamesItsZone) {
  EXPECT_EQ(TimeZoneOf("+14155552671"), "America/Los_Angeles");
  EXPECT_EQ(TimeZoneOf("+12125550100"), "America/New_York");
}

TEST(TimeZoneOfTest, ACountryInOneZoneNamesIt) {
  EXPECT_EQ(TimeZoneOf("+81312345678"), "Asia/Tokyo");
  EXPECT_EQ(TimeZoneOf("+4930123456"), "Europe/Berlin");
  EXPECT_EQ(TimeZoneOf("+442071838750"), "Europe/London");
}

TEST(TimeZoneOfTest, APrefixSpanningSeveralZonesNamesNone) {
  // North American toll-free numbers ring anywhere from Hawaii to Newfoundland.
  EXPECT_EQ(TimeZoneOf("+18005550100"), std::nullopt);
}

TEST(TimeZoneOfTest, TextThatIsNotAnE164NumberNamesNone) {
  EXPECT_EQ(TimeZoneOf(""), std::nullopt);
  EXPECT_EQ(TimeZoneOf("+"), std::nullopt);
  EXPECT_EQ(TimeZoneOf("14155552671"), std::nullopt);
  EXPECT_EQ(TimeZoneOf("+1415 555"), std::nullopt);
}

TEST(KnownTimeZoneTest, ZonesAndLinksTzdataListsAreKnown) {
  ASSERT_TRUE(KnownTimeZone("Europe/Berlin").has_value());
  EXPECT_EQ(KnownTimeZone("Europe/Berlin")->name(), "Europe/Berlin");
  EXPECT_TRUE(KnownTimeZone("America/Argentina/Buenos_Aires").has_value());
  EXPECT_TRUE(KnownTimeZone("UTC").has_value());
  EXPECT_TRUE(KnownTimeZone("Asia/Calcutta").has_value());  // a link to Asia/Kolkata
}

TEST(KnownTimeZoneTest, AnythingElseIsNot) {
  for (const char* name : {"Mars/Olympus_Mons", "", "europe/berlin", "../../etc/passwd",
                           "/usr/share/zoneinfo/UTC", "Europe/../UTC", "+03:00", "Fixed/UTC+03"}) {
    EXPECT_FALSE(KnownTimeZone(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace klaxon::phone
