#include "services/delivery/limit_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::delivery {
namespace {

using ::testing::HasSubstr;

constexpr char kSender[] = "+14155552671";

TEST(LimitSettingsTest, DefaultsPaceOnePerSecondAndLimitRecipients) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", kSender}});
  const LimitSettings settings = ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish();
  EXPECT_EQ(settings.send.senders,
            (std::vector<PacedSender>{{.address = kSender,
                                       .kind = SenderKind::kLongCode,
                                       .rate = {.count = 1, .window = absl::Seconds(1)}}}));
  EXPECT_EQ(settings.send.recipient_windows,
            (std::vector<limits::Rate>{{.count = 5, .window = absl::Minutes(15)},
                                       {.count = 11, .window = absl::Hours(1)}}));
  EXPECT_EQ(settings.send.max_wait, absl::Seconds(2));
  EXPECT_EQ(settings.max_in_flight, 100);
  EXPECT_EQ(settings.in_flight_urgent_reserve, 10);
  EXPECT_TRUE(settings.send.recipient_exempt.Exempts(types::v1::PRIORITY_CRITICAL));
  EXPECT_FALSE(settings.send.recipient_exempt.Exempts(types::v1::PRIORITY_HIGH));
}

TEST(LimitSettingsTest, ReadsEachVariable) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", "+14155552671,+14155552672"},
                                            {"KLAXON_SENDER_RATE", "5/1s"},
                                            {"KLAXON_RECIPIENT_LIMITS", "none"},
                                            {"KLAXON_PACING_MAX_WAIT", "1s"},
                                            {"KLAXON_RECIPIENT_LIMITS_EXEMPT", "none"},
                                            {"KLAXON_TWILIO_MAX_IN_FLIGHT", "7"},
                                            {"KLAXON_TWILIO_IN_FLIGHT_URGENT_RESERVE", "2"}});
  const LimitSettings settings = ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish();
  ASSERT_EQ(settings.send.senders.size(), 2u);
  EXPECT_EQ(settings.send.senders[1].rate.count, 5);
  EXPECT_TRUE(settings.send.recipient_windows.empty());
  EXPECT_EQ(settings.send.max_wait, absl::Seconds(1));
  EXPECT_EQ(settings.max_in_flight, 7);
  EXPECT_EQ(settings.in_flight_urgent_reserve, 2);
  EXPECT_FALSE(settings.send.recipient_exempt.Exempts(types::v1::PRIORITY_CRITICAL));
}

TEST(LimitSettingsTest, AnUrgentReserveOfEverySlotIsRefused) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", kSender},
                                            {"KLAXON_TWILIO_MAX_IN_FLIGHT", "4"},
                                            {"KLAXON_TWILIO_IN_FLIGHT_URGENT_RESERVE", "4"}});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(std::string(reader.Finish().message()),
              HasSubstr("KLAXON_TWILIO_IN_FLIGHT_URGENT_RESERVE"));
}

TEST(LimitSettingsTest, BadRateNamesItsVariable) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", kSender},
                                            {"KLAXON_RECIPIENT_LIMITS", "5 per hour"}});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(std::string(reader.Finish().message()), HasSubstr("KLAXON_RECIPIENT_LIMITS"));
}

TEST(LimitSettingsTest, BadExemptionNamesItsVariable) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", kSender},
                                            {"KLAXON_RECIPIENT_LIMITS_EXEMPT", "urgent"}});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(std::string(reader.Finish().message()),
              HasSubstr("KLAXON_RECIPIENT_LIMITS_EXEMPT: \"urgent\" is not a priority"));
}

TEST(LimitSettingsTest, SendersAreRequired) {
  config::Reader reader(config::Environment{});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(std::string(reader.Finish().message()), HasSubstr("KLAXON_SMS_SENDERS"));
}

TEST(LimitSettingsTest, BadSenderIsNamed) {
  config::Reader reader(config::Environment{{"KLAXON_SMS_SENDERS", "+14155552671, 12"}});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(std::string(reader.Finish().message()),
              HasSubstr("KLAXON_SMS_SENDERS: \"12\" is neither"));
}

TEST(LimitSettingsTest, TheFormerSingleSenderVariableIsRefusedNotIgnored) {
  config::Reader reader(
      config::Environment{{"KLAXON_SMS_SENDERS", kSender}, {"KLAXON_TWILIO_FROM", kSender}});
  (void)ReadLimitSettings(reader, types::v1::CHANNEL_SMS);
  EXPECT_THAT(
      std::string(reader.Finish().message()),
      HasSubstr("KLAXON_TWILIO_FROM: is replaced by KLAXON_SMS_SENDERS and KLAXON_VOICE_SENDERS"));
}

}  // namespace
}  // namespace klaxon::delivery
