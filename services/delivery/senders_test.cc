#include "services/delivery/senders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::delivery {
namespace {

using ::testing::HasSubstr;

constexpr char kService[] = "MG0123456789abcdef0123456789abcdef";

limits::Rate PerSecond(int64_t count) { return {.count = count, .window = absl::Seconds(1)}; }

std::string SendersError(std::string_view text,
                         types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  return std::string(ParseSenders(text, channel, std::nullopt).status().message());
}

TEST(SendersTest, EachKindTakesTwiliosDefaultPace) {
  const absl::StatusOr<std::vector<PacedSender>> senders = ParseSenders(
      "+14155552671, +18005550100, 12345, +442071838750", types::v1::CHANNEL_SMS, std::nullopt);
  ASSERT_TRUE(senders.ok()) << senders.status();
  EXPECT_EQ(*senders, (std::vector<PacedSender>{
                          {"+14155552671", SenderKind::kLongCode, PerSecond(1)},
                          {"+18005550100", SenderKind::kTollFree, PerSecond(3)},
                          {"12345", SenderKind::kShortCode, PerSecond(100)},
                          {"+442071838750", SenderKind::kLongCode, PerSecond(10)},
                      }));
}

TEST(SendersTest, OwnRateBeatsTheCommonPaceWhichBeatsTheDefault) {
  const absl::StatusOr<std::vector<PacedSender>> senders =
      ParseSenders(absl::StrCat("+14155552671=2/1s, +14155552672, ", kService, "=20/1s"),
                   types::v1::CHANNEL_SMS, PerSecond(5));
  ASSERT_TRUE(senders.ok()) << senders.status();
  ASSERT_EQ(senders->size(), 3u);
  EXPECT_EQ((*senders)[0].rate, PerSecond(2));
  EXPECT_EQ((*senders)[1].rate, PerSecond(5));
  EXPECT_EQ((*senders)[2], (PacedSender{kService, SenderKind::kMessagingService, PerSecond(20)}));
}

TEST(SendersTest, MessagingServiceNeedsItsPaceWhateverTheCommonPace) {
  EXPECT_THAT(SendersError(kService), HasSubstr(absl::StrCat("\"", kService, "\" needs its pace")));
  EXPECT_THAT(
      std::string(ParseSenders(kService, types::v1::CHANNEL_SMS, PerSecond(1)).status().message()),
      HasSubstr("needs its pace"));
}

TEST(SendersTest, RefusesWhatIsNoSender) {
  EXPECT_THAT(SendersError("+1415"), HasSubstr("\"+1415\" is neither an E.164 number"));
  // A mistyped Messaging Service SID is too long for an alphanumeric sender ID.
  EXPECT_THAT(SendersError("MG0123456789abcdef"), HasSubstr("\"MG0123456789abcdef\" is neither"));
  EXPECT_THAT(SendersError("ACME ALERTS 1"), HasSubstr("\"ACME ALERTS 1\" is neither"));  // 12
  EXPECT_THAT(SendersError("ACME-OPS"), HasSubstr("\"ACME-OPS\" is neither"));
}

TEST(SendersTest, RefusesABadRateNamingTheEntry) {
  EXPECT_THAT(SendersError("+14155552671=fast"),
              HasSubstr("KLAXON_SMS_SENDERS: \"+14155552671=fast\""));
  EXPECT_THAT(SendersError("+14155552671="), HasSubstr("has '=' but no rate"));
}

TEST(SendersTest, RefusesASenderTwice) {
  EXPECT_THAT(SendersError("+14155552671, +14155552671=2/1s"), HasSubstr("is given twice"));
}

TEST(SendersTest, RefusesNoSenderAtAll) {
  EXPECT_THAT(SendersError(" , "), HasSubstr("is required"));
}

TEST(SendersTest, VoiceTakesNumbersPacedPerAccount) {
  const absl::StatusOr<std::vector<PacedSender>> senders =
      ParseSenders("+18005550100", types::v1::CHANNEL_VOICE, std::nullopt);
  ASSERT_TRUE(senders.ok()) << senders.status();
  EXPECT_EQ((*senders)[0].rate, PerSecond(1));
  EXPECT_THAT(SendersError("12345", types::v1::CHANNEL_VOICE), HasSubstr("cannot place calls"));
  EXPECT_THAT(SendersError(absl::StrCat(kService, "=5/1s"), types::v1::CHANNEL_VOICE),
              HasSubstr("cannot place calls"));
  // Several caller IDs (one per country, chosen by the routing rules) share the account's pace.
  EXPECT_THAT(SendersError("+14155552671,+442071838750=1/2s", types::v1::CHANNEL_VOICE),
              HasSubstr("several caller IDs each need their own rate"));
  const absl::StatusOr<std::vector<PacedSender>> shares =
      ParseSenders("+14155552671=1/2s, +442071838750=1/2s", types::v1::CHANNEL_VOICE, std::nullopt);
  ASSERT_TRUE(shares.ok()) << shares.status();
  EXPECT_EQ(shares->size(), 2u);
}

TEST(SendersTest, ASenderMayNameItsAccount) {
  const absl::StatusOr<std::vector<PacedSender>> senders = ParseSenders(
      absl::StrCat("+14155552671@main, +14155552672 @ backup = 2/1s, ", kService, "@main=5/1s"),
      types::v1::CHANNEL_SMS, std::nullopt);
  ASSERT_TRUE(senders.ok()) << senders.status();
  EXPECT_EQ(*senders, (std::vector<PacedSender>{
                          {"+14155552671", SenderKind::kLongCode, PerSecond(1), "main"},
                          {"+14155552672", SenderKind::kLongCode, PerSecond(2), "backup"},
                          {kService, SenderKind::kMessagingService, PerSecond(5), "main"},
                      }));
  EXPECT_THAT(SendersError("+14155552671@"), HasSubstr("has '@' but no account after it"));
}

TEST(SendersTest, SendersTakeTheOnlyAccountAndMustNameOneOfSeveral) {
  std::vector<PacedSender> senders = {{.address = "+14155552671"},
                                      {.address = "+14155552672", .account = "main"}};
  ASSERT_TRUE(AssignAccounts(senders, {"main"}, types::v1::CHANNEL_SMS).ok());
  EXPECT_EQ(senders[0].account, "main");
  std::vector<PacedSender> unnamed = {{.address = "+14155552671"},
                                      {.address = "+14155552672", .account = "spare"}};
  const std::string error(
      AssignAccounts(unnamed, {"main", "backup"}, types::v1::CHANNEL_SMS).message());
  EXPECT_THAT(error, HasSubstr("KLAXON_SMS_SENDERS: \"+14155552671\" names no account "
                               "(+14155552671@<account>): KLAXON_TWILIO_ACCOUNTS_FILE lists main, "
                               "backup"));
  EXPECT_THAT(error, HasSubstr("\"+14155552672@spare\": account \"spare\" is not one of main, "
                               "backup"));
}

TEST(SendersTest, AnAlphanumericSenderIdSendsSmsAtTheRateOfANumberOutsideNorthAmerica) {
  const absl::StatusOr<std::vector<PacedSender>> senders =
      ParseSenders("ACME OPS", types::v1::CHANNEL_SMS, std::nullopt);
  ASSERT_TRUE(senders.ok()) << senders.status();
  EXPECT_EQ((*senders)[0], (PacedSender{"ACME OPS", SenderKind::kAlphanumeric, PerSecond(10)}));
  EXPECT_THAT(SendersError("ACME OPS", types::v1::CHANNEL_VOICE), HasSubstr("cannot place calls"));
}

TEST(SendersTest, KnowsAMessagingServiceSid) {
  EXPECT_TRUE(IsMessagingServiceSid(kService));
  EXPECT_FALSE(IsMessagingServiceSid("MG0123456789ABCDEF0123456789ABCDEF"));
  EXPECT_FALSE(IsMessagingServiceSid("+14155552671"));
}

}  // namespace
}  // namespace klaxon::delivery
