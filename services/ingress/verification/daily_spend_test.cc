#include "services/ingress/verification/daily_spend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress::verification {
namespace {

using ::testing::HasSubstr;

TEST(ParseSpendSettingsTest, ReadsPricesByChannelAndCapsByCaller) {
  absl::StatusOr<SpendSettings> settings =
      ParseSpendSettings("sms=0.0079, voice=0.014", "billing=25,*=100");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->prices.at(types::v1::CHANNEL_SMS), 7'900);
  EXPECT_EQ(settings->prices.at(types::v1::CHANNEL_VOICE), 14'000);
  EXPECT_EQ(settings->daily_caps.at("billing"), 25'000'000);
  EXPECT_EQ(settings->daily_caps.at("*"), 100'000'000);
  EXPECT_TRUE(ParseSpendSettings("", "").value().daily_caps.empty());
}

TEST(ParseSpendSettingsTest, MistakesAreNamed) {
  EXPECT_THAT(ParseSpendSettings("fax=1", "").status().message(),
              HasSubstr("KLAXON_VERIFY_PRICES: \"fax\" is not a channel"));
  EXPECT_THAT(ParseSpendSettings("sms=cheap", "").status().message(),
              HasSubstr("KLAXON_VERIFY_PRICES: entry \"sms=cheap\""));
  EXPECT_THAT(ParseSpendSettings("sms=-0.01", "").status().message(),
              HasSubstr("KLAXON_VERIFY_PRICES: entry \"sms=-0.01\""));
  EXPECT_THAT(ParseSpendSettings("sms=1,voice=2", "billing").status().message(),
              HasSubstr("KLAXON_VERIFY_DAILY_SPEND: entry \"billing\""));
  EXPECT_THAT(ParseSpendSettings("sms=0.0079", "billing=25").status().message(),
              HasSubstr("needs KLAXON_VERIFY_PRICES for both sms and voice"));
  EXPECT_THAT(ParseSpendSettings("sms=1,sms=2", "").status().message(), HasSubstr("given twice"));
}

}  // namespace
}  // namespace klaxon::ingress::verification
