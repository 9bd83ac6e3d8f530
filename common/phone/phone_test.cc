#include "common/phone/phone.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::phone {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ValidateE164Test, AcceptsValidNumbersOfSeveralCountries) {
  struct Case {
    const char* text;
    const char* country_code;
    const char* last4;
  };
  for (const Case& c : {Case{"+14155552671", "1", "2671"}, Case{"+442071838750", "44", "8750"},
                        Case{"+4915123456789", "49", "6789"}}) {
    const absl::StatusOr<PhoneNumber> number = ValidateE164(c.text);
    ASSERT_TRUE(number.ok()) << c.text << ": " << number.status();
    EXPECT_EQ(*number,
              (PhoneNumber{.e164 = c.text, .country_code = c.country_code, .last4 = c.last4}));
  }
}

TEST(ValidateE164Test, RejectsTextNotInE164Form) {
  for (const char* text : {"", "14155552671", "+1 415 555 2671", "+1415555", "+0123456789",
                           "+1234567890123456", "+1415555267a", "(415) 555-2671"}) {
    const absl::Status status = ValidateE164(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr("not in E.164 form")) << text;
  }
}

TEST(ValidateE164Test, RejectsWellFormedNumbersThatAreNotValidForTheirCountry) {
  // Unassigned country code 999; a NANP area code starting with 1; a German mobile number far
  // too short. (libphonenumber 8.12 accepts the fictional +1 415 555-0100 as valid.)
  for (const char* text : {"+99912345678", "+11234567890", "+49151234"}) {
    const absl::Status status = ValidateE164(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr("not a valid number for its country")) << text;
  }
}

TEST(ValidateE164Test, ErrorsDoNotContainTheNumber) {
  EXPECT_THAT(ValidateE164("+99912345678").status().message(), Not(HasSubstr("12345678")));
  EXPECT_THAT(ValidateE164("+1 415 555 2671").status().message(), Not(HasSubstr("555")));
}

TEST(CountryCallingCodeTest, FindsCodesOfEveryLength) {
  EXPECT_EQ(CountryCallingCode("+14155552671"), "1");
  EXPECT_EQ(CountryCallingCode("+442071838750"), "44");
  EXPECT_EQ(CountryCallingCode("+353861234567"), "353");
}

TEST(CountryCallingCodeTest, FindsCodeOfAnInvalidButWellFormedNumber) {
  EXPECT_EQ(CountryCallingCode("+49151234"), "49");
}

TEST(CountryCallingCodeTest, IsEmptyForUnknownCodeOrMalformedText) {
  EXPECT_EQ(CountryCallingCode("+99912345678"), std::nullopt);
  EXPECT_EQ(CountryCallingCode("4155552671"), std::nullopt);
}

TEST(RegionCodeTest, TellsApartRegionsThatShareACallingCode) {
  EXPECT_EQ(RegionCode("+14155552671"), "US");
  EXPECT_EQ(RegionCode("+16135550123"), "CA");
  EXPECT_EQ(RegionCode("+442071838750"), "GB");
}

TEST(RegionCodeTest, IsEmptyForMalformedText) {
  EXPECT_EQ(RegionCode("4155552671"), std::nullopt);
  EXPECT_EQ(RegionCode("+99912345678"), std::nullopt);
}

TEST(IsNorthAmericanRegionTest, IsTheRegionsOfCallingCodeOne) {
  EXPECT_TRUE(IsNorthAmericanRegion("US"));
  EXPECT_TRUE(IsNorthAmericanRegion("CA"));
  EXPECT_TRUE(IsNorthAmericanRegion("JM"));
  EXPECT_FALSE(IsNorthAmericanRegion("GB"));
  EXPECT_FALSE(IsNorthAmericanRegion("XX"));
}

TEST(IsRegionTest, KnowsRegionCodesInUpperCaseOnly) {
  EXPECT_TRUE(IsRegion("GB"));
  EXPECT_TRUE(IsRegion("US"));
  EXPECT_FALSE(IsRegion("gb"));
  EXPECT_FALSE(IsRegion("UK"));
  EXPECT_FALSE(IsRegion("ZZ"));
  EXPECT_FALSE(IsRegion("GBR"));
}

}  // namespace
}  // namespace klaxon::phone
