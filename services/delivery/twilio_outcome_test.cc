#include "services/delivery/twilio_outcome.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::delivery {
namespace {

using twilio::Transport;
using twilio::TwilioError;

SendResult::Kind KindOf(TwilioError error) { return ClassifyTwilioError(error).kind; }

TEST(ClassifyTwilioErrorTest, PermanentCodesAreRejected) {
  for (int code : {21211, 21610, 21614, 21408, 21608, 21617, 20003}) {
    EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 400, .code = code}),
              SendResult::Kind::kRejected)
        << code;
  }
}

TEST(ClassifyTwilioErrorTest, ThrottlingIsThrottled) {
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 429, .code = 20429}),
            SendResult::Kind::kThrottled);
  // Either sign is enough: a 429 whose body did not parse, or 20429 under another status.
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 429}),
            SendResult::Kind::kThrottled);
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 503, .code = 20429}),
            SendResult::Kind::kThrottled);
}

TEST(ClassifyTwilioErrorTest, ThrottlingWithoutABodyIsRecordedAs20429) {
  EXPECT_EQ(ClassifyTwilioError({.transport = Transport::kAnswered, .http_status = 429}).error_code,
            20429);
  EXPECT_EQ(
      ClassifyTwilioError({.transport = Transport::kAnswered, .http_status = 429, .code = 20001})
          .error_code,
      20001)
      << "Twilio's own code is kept";
}

TEST(ClassifyTwilioErrorTest, ThrottlingCarriesRetryAfter) {
  EXPECT_EQ(ClassifyTwilioError({.transport = Transport::kAnswered,
                                 .http_status = 429,
                                 .code = 20429,
                                 .retry_after = absl::Seconds(7)})
                .retry_after,
            absl::Seconds(7));
}

TEST(ClassifyTwilioErrorTest, FullSenderQueueIsSlowDown) {
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 400, .code = 21611}),
            SendResult::Kind::kSlowDown);
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 429, .code = 30001}),
            SendResult::Kind::kSlowDown);
}

TEST(ClassifyTwilioErrorTest, ServerErrorsAndUnsentRequestsAreRetryable) {
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 503}),
            SendResult::Kind::kRetryable);
  EXPECT_EQ(KindOf({.transport = Transport::kNotSent}), SendResult::Kind::kRetryable);
}

TEST(ClassifyTwilioErrorTest, LostAnswerIsUnknown) {
  EXPECT_EQ(KindOf({.transport = Transport::kUnknown}), SendResult::Kind::kUnknown);
}

TEST(ClassifyTwilioErrorTest, SaysWhatEachErrorTellsOfTheAccountsHealth) {
  using Evidence = SendResult::AccountEvidence;
  const auto evidence = [](TwilioError error) {
    return ClassifyTwilioError(error).account_evidence;
  };
  EXPECT_EQ(evidence({.transport = Transport::kAnswered, .http_status = 503}), Evidence::kFailing);
  EXPECT_EQ(evidence({.transport = Transport::kNotSent}), Evidence::kFailing);
  EXPECT_EQ(evidence({.transport = Transport::kUnknown}), Evidence::kFailing);
  EXPECT_EQ(evidence({.transport = Transport::kAnswered, .http_status = 429, .code = 20429}),
            Evidence::kNone);
  EXPECT_EQ(evidence({.transport = Transport::kAnswered, .http_status = 429}), Evidence::kNone);
  EXPECT_EQ(evidence({.transport = Transport::kAnswered, .http_status = 400, .code = 21211}),
            Evidence::kAnswered);
}

TEST(ClassifyTwilioErrorTest, OtherClientErrorsAreRejected) {
  EXPECT_EQ(KindOf({.transport = Transport::kAnswered, .http_status = 400, .code = 21602}),
            SendResult::Kind::kRejected);
}

TEST(DescribeTwilioErrorTest, NamesCodeAndMeaningButNotTwilioText) {
  std::string reason = DescribeTwilioError({.transport = Transport::kAnswered,
                                            .http_status = 400,
                                            .code = 21211,
                                            .message = "The 'To' number +14155552671 is invalid"});
  EXPECT_THAT(reason, ::testing::HasSubstr("21211"));
  EXPECT_THAT(reason, ::testing::HasSubstr("not a valid phone number"));
  EXPECT_THAT(reason, ::testing::Not(::testing::HasSubstr("+1415")));
}

}  // namespace
}  // namespace klaxon::delivery
