#include "services/ingress/verification/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/crypto/listed_codes.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/ids/uuid.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/timing/fake_clock.h"
#include "services/ingress/verification/in_memory_spend_counter.h"
#include "services/ingress/verification/in_memory_start_limiter.h"
#include "services/ingress/verification/in_memory_verification_store.h"

namespace klaxon::ingress::verification {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using verify::v1::CheckVerificationRequest;
using verify::v1::CheckVerificationResponse;
using verify::v1::StartVerificationRequest;
using verify::v1::StartVerificationResponse;
using verify::v1::VerificationStatus;

constexpr char kCaller[] = "signup";
constexpr char kRecipient[] = "+14155552671";
constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

// Verification ids as UUIDs, counting: ...-000000000001, ...-000000000002, ...
class CountingUuids final : public ids::IdGenerator {
 public:
  std::string Next() override {
    return absl::StrFormat("0190a1b2-0000-7000-8000-%012d", ++issued_);
  }

 private:
  int issued_ = 0;
};

// Keeps what SendAlert was asked to send and answers at once with the alert id it was given (or
// `answer_with`, as the intake does for a repeat of an idempotency key), or with `refusal`; with
// `hold`, answers only when the test calls AnswerHeld.
class RecordingAlerts final : public AlertSubmitter {
 public:
  void SendAll(std::vector<IntakeCall> calls) override {
    for (IntakeCall& call : calls) {
      EXPECT_EQ(call.caller, kCaller);
      // The person asked for the code: quiet hours must not hold it.
      EXPECT_TRUE(call.submission.awaited_by_recipient);
      sent.push_back(*call.request);
      alert_ids.push_back(call.submission.alert_id);
      if (hold) {
        held.push_back(std::move(call.done));
      } else {
        Answer(std::move(call.done));
      }
    }
  }
  void AnswerHeld() {
    for (SendDone& done : std::exchange(held, {})) Answer(std::move(done));
  }
  std::vector<alerts::v1::SendAlertRequest> sent;
  std::vector<std::string> alert_ids;  // the id the verifier gave each send
  absl::Status refusal;
  std::string answer_with;
  bool hold = false;

 private:
  void Answer(SendDone done) {
    if (!refusal.ok()) return std::move(done)(refusal);
    alerts::v1::SendAlertResponse response;
    response.set_alert_id(answer_with.empty() ? alert_ids.back() : answer_with);
    std::move(done)(std::move(response));
  }
  std::vector<SendDone> held;
};

class CountingObserver final : public VerificationObserver {
 public:
  void OnStarted(types::v1::Channel, bool resent) override { resent ? ++resends : ++starts; }
  void OnRefused(StartRefusal refusal) override { refusals.push_back(refusal); }
  void OnChecked(VerificationStatus status, std::optional<absl::Duration> time) override {
    checked.push_back(status);
    if (time.has_value()) approved_after = *time;
  }
  void OnCheckUnrecorded(const absl::Status& why) override { unrecorded.push_back(why); }
  int starts = 0;
  int resends = 0;
  std::vector<StartRefusal> refusals;
  std::vector<VerificationStatus> checked;
  std::optional<absl::Duration> approved_after;
  std::vector<absl::Status> unrecorded;
};

class VerifierTest : public ::testing::Test {
 protected:
  explicit VerifierTest(VerifierOptions options = Options()) : verifier_(options, Ports()) {}

  static VerifierOptions Options() {
    return {.recipient_starts = {{.count = 3, .window = absl::Hours(1)}},
            .regions = *RegionPermissions::Parse("*=US+CA"),
            .digest_key = kKey,
            .events_topic = "klaxon.delivery.events"};
  }

  VerifierPorts Ports() {
    return {.store = store_,
            .limiter = limiter_,
            .spend = spend_,
            .alerts = alerts_,
            .publisher = publisher_,
            .codes = codes_,
            .transit = transit_,
            .ids = ids_,
            .observer = observer_,
            .clock = clock_};
  }

  absl::StatusOr<StartVerificationResponse> Start(
      std::string recipient = kRecipient, types::v1::Channel channel = types::v1::CHANNEL_SMS,
      std::string locale = "") {
    StartVerificationRequest request;
    request.set_recipient(std::move(recipient));
    request.set_channel(channel);
    request.set_locale(std::move(locale));
    std::optional<absl::StatusOr<StartVerificationResponse>> answer;
    verifier_.Start(kCaller, request, [&answer](absl::StatusOr<StartVerificationResponse> got) {
      answer = std::move(got);
    });
    EXPECT_TRUE(answer.has_value()) << "Start returned without answering";
    return answer.value_or(absl::InternalError("no answer"));
  }

  VerificationStatus Check(const std::string& id, const std::string& code) {
    CheckVerificationRequest request;
    request.set_verification_id(id);
    request.set_code(code);
    absl::StatusOr<CheckVerificationResponse> checked = verifier_.Check(kCaller, request);
    EXPECT_TRUE(checked.ok()) << checked.status();
    return checked.ok() ? checked->status() : verify::v1::VERIFICATION_STATUS_UNSPECIFIED;
  }

  timing::FakeClock clock_;
  InMemoryVerificationStore store_;
  InMemoryStartLimiter limiter_{clock_};
  InMemorySpendCounter spend_;
  RecordingAlerts alerts_;
  messaging::FakePublisher publisher_;
  crypto::ListedCodes codes_{{"482913", "111111", "222222"}};
  crypto::LocalKeyring keyring_ =
      *crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1}));
  transit::TransitCipher transit_{keyring_};
  CountingUuids ids_;
  CountingObserver observer_;
  Verifier verifier_;
};

TEST_F(VerifierTest, TheCodeGoesOutAsAnAlertAndTheRightCodeApprovesOnce) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_FALSE(started->resent());
  ASSERT_EQ(alerts_.sent.size(), 1u);
  EXPECT_EQ(started->alert_id(), alerts_.alert_ids[0]);
  EXPECT_TRUE(ids::IsUuid(started->alert_id()));
  EXPECT_NE(started->alert_id(), started->verification_id());
  const alerts::v1::SendAlertRequest& sent = alerts_.sent[0];
  EXPECT_EQ(sent.recipient(), kRecipient);
  EXPECT_EQ(sent.text(), "Your verification code is 482913");
  EXPECT_EQ(sent.ttl().seconds(), 600);
  EXPECT_EQ(sent.metadata().at("verification_id"), started->verification_id());
  EXPECT_EQ(observer_.starts, 1);

  clock_.Advance(absl::Seconds(42));
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
  EXPECT_EQ(observer_.approved_after, absl::Seconds(42));
  // Approved codes cannot be used again.
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_NOT_FOUND);
}

TEST_F(VerifierTest, NothingKeptHoldsTheCodeOrTheNumberInClear) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok()) << started.status();
  absl::StatusOr<std::optional<Verification>> kept =
      store_.Find(kCaller, started->verification_id());
  ASSERT_TRUE(kept.ok() && kept->has_value());
  for (const std::string& field :
       {(*kept)->recipient_index, (*kept)->code_digest, (*kept)->sealed_code}) {
    EXPECT_THAT(field, AllOf(Not(HasSubstr("482913")), Not(HasSubstr("4155552671"))));
  }
}

TEST_F(VerifierTest, ARepeatStartResendsTheSameCodeUnderTheSameVerification) {
  absl::StatusOr<StartVerificationResponse> first = Start();
  clock_.Advance(absl::Minutes(2));
  absl::StatusOr<StartVerificationResponse> second = Start(kRecipient, types::v1::CHANNEL_VOICE);
  ASSERT_TRUE(first.ok() && second.ok()) << second.status();
  EXPECT_TRUE(second->resent());
  EXPECT_EQ(second->verification_id(), first->verification_id());
  EXPECT_EQ(second->expires_at().seconds(), first->expires_at().seconds());
  ASSERT_EQ(alerts_.sent.size(), 2u);
  EXPECT_NE(alerts_.sent[1].idempotency_key(), alerts_.sent[0].idempotency_key());
  EXPECT_EQ(alerts_.sent[1].ttl().seconds(), 480);
  // A call speaks the same code, digit by digit, twice; it calls once.
  EXPECT_EQ(alerts_.sent[1].text(),
            "Your verification code is: 4. 8. 2. 9. 1. 3. Once again, your code is: 4. 8. 2. 9. "
            "1. 3.");
  EXPECT_EQ(alerts_.sent[1].voice().max_calls(), 1u);
  EXPECT_EQ(alerts_.sent[1].voice().language(), "en-US");
  EXPECT_TRUE(alerts_.sent[1].voice().read_only());
  EXPECT_EQ(observer_.resends, 1);
  EXPECT_EQ(Check(first->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
}

TEST_F(VerifierTest, ACallReadsTheCodeInTheLocalesLanguage) {
  ASSERT_TRUE(Start(kRecipient, types::v1::CHANNEL_VOICE, "de").ok());
  ASSERT_EQ(alerts_.sent.size(), 1u);
  EXPECT_THAT(alerts_.sent[0].text(), HasSubstr("Ihr Bestätigungscode lautet"));
  EXPECT_EQ(alerts_.sent[0].voice().language(), "de-DE");
  EXPECT_TRUE(alerts_.sent[0].voice().read_only());
}

TEST_F(VerifierTest, AfterApprovalANewStartMintsANewCode) {
  absl::StatusOr<StartVerificationResponse> first = Start();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(Check(first->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
  absl::StatusOr<StartVerificationResponse> second = Start();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->resent());
  EXPECT_NE(second->verification_id(), first->verification_id());
  EXPECT_EQ(alerts_.sent.back().text(), "Your verification code is 111111");
}

TEST_F(VerifierTest, FiveWrongCodesUseUpTheChecksAndThenEvenTheRightOneFails) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  for (int i = 1; i <= 4; ++i) {
    CheckVerificationRequest request;
    request.set_verification_id(started->verification_id());
    request.set_code("000000");
    absl::StatusOr<CheckVerificationResponse> checked = verifier_.Check(kCaller, request);
    ASSERT_TRUE(checked.ok());
    EXPECT_EQ(checked->status(), verify::v1::VERIFICATION_STATUS_PENDING);
    EXPECT_EQ(checked->checks_left(), 5 - i);
  }
  EXPECT_EQ(Check(started->verification_id(), "000000"),
            verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS);
  EXPECT_EQ(Check(started->verification_id(), "482913"),
            verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS);
}

TEST_F(VerifierTest, TheFifthCheckMayStillBeTheRightOne) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  for (int i = 0; i < 4; ++i) Check(started->verification_id(), "000000");
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
}

TEST_F(VerifierTest, ACodeChecksOnlyUntilItExpires) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_EXPIRED);
  // The recipient may start again: an expired verification is not pending any more.
  absl::StatusOr<StartVerificationResponse> again = Start();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->resent());
}

TEST_F(VerifierTest, ACheckByRecipientFindsThePendingVerification) {
  ASSERT_TRUE(Start().ok());
  CheckVerificationRequest request;
  request.set_recipient(kRecipient);
  request.set_code("482913");
  absl::StatusOr<CheckVerificationResponse> checked = verifier_.Check(kCaller, request);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->status(), verify::v1::VERIFICATION_STATUS_APPROVED);

  request.set_recipient("+14155552672");
  EXPECT_EQ(verifier_.Check(kCaller, request)->status(), verify::v1::VERIFICATION_STATUS_NOT_FOUND);
}

TEST_F(VerifierTest, MalformedChecksAreRefusedWithoutCounting) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  CheckVerificationRequest request;
  request.set_verification_id(started->verification_id());
  for (const char* code : {"48291", "4829131", "48291x", ""}) {
    request.set_code(code);
    const absl::Status refused = verifier_.Check(kCaller, request).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << code;
    EXPECT_THAT(refused.message(), HasSubstr("code: must be 6 digits"));
  }
  request.set_code("482913");
  request.set_recipient(kRecipient);
  EXPECT_THAT(verifier_.Check(kCaller, request).status().message(), HasSubstr("exactly one"));
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
}

TEST_F(VerifierTest, TheFourthStartInTheWindowIsRefusedNamingTheLimit) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Start().ok());
  absl::StatusOr<StartVerificationResponse> refused = Start();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              AllOf(HasSubstr("3 verifications per hour"), HasSubstr("resets in 1h"),
                    Not(HasSubstr("4155552671"))));
  EXPECT_EQ(alerts_.sent.size(), 3u);
  EXPECT_THAT(observer_.refusals, ::testing::ElementsAre(StartRefusal::kRecipientLimit));
}

TEST_F(VerifierTest, ADisallowedRegionIsRefusedWithoutSending) {
  absl::StatusOr<StartVerificationResponse> refused = Start("+442071838750");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), HasSubstr("GB"));
  EXPECT_TRUE(alerts_.sent.empty());
  EXPECT_THAT(observer_.refusals, ::testing::ElementsAre(StartRefusal::kRegion));
}

TEST_F(VerifierTest, ACallersTemplateWordsTheCode) {
  StartVerificationRequest request;
  request.set_recipient(kRecipient);
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_template_("Acme: {code} is your code");
  verifier_.Start(kCaller, request, [](absl::StatusOr<StartVerificationResponse> started) {
    EXPECT_TRUE(started.ok()) << started.status();
  });
  ASSERT_EQ(alerts_.sent.size(), 1u);
  EXPECT_EQ(alerts_.sent[0].text(), "Acme: 482913 is your code");

  request.set_template_("Acme: no code here");
  verifier_.Start(kCaller, request, [](absl::StatusOr<StartVerificationResponse> started) {
    EXPECT_THAT(started.status().message(), HasSubstr("template:"));
  });
  EXPECT_EQ(alerts_.sent.size(), 1u);
}

TEST_F(VerifierTest, BadInputIsNamed) {
  EXPECT_THAT(Start("4155552671").status().message(), HasSubstr("recipient:"));
  EXPECT_THAT(Start(kRecipient, types::v1::CHANNEL_UNSPECIFIED).status().message(),
              HasSubstr("channel:"));
  EXPECT_THAT(Start(kRecipient, types::v1::CHANNEL_SMS, "tlh").status().message(),
              HasSubstr("locale: \"tlh\""));
  EXPECT_TRUE(alerts_.sent.empty());
}

TEST_F(VerifierTest, AnIntakeRefusalPassesThroughAndARetryResendsTheSameCode) {
  alerts_.refusal = absl::UnavailableError("Kafka is down");
  EXPECT_EQ(Start().status().code(), absl::StatusCode::kUnavailable);
  alerts_.refusal = absl::OkStatus();
  absl::StatusOr<StartVerificationResponse> retried = Start();
  ASSERT_TRUE(retried.ok());
  EXPECT_TRUE(retried->resent());
  EXPECT_EQ(alerts_.sent.back().text(), "Your verification code is 482913");
}

TEST_F(VerifierTest, AVerificationWithNoChecksLeftIsNotSentAgain) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  for (int i = 0; i < 5; ++i) Check(started->verification_id(), "000000");
  absl::StatusOr<StartVerificationResponse> again = Start();
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("no checks left"));
  EXPECT_EQ(alerts_.sent.size(), 1u);
}

TEST_F(VerifierTest, AnIdThatIsNotAUuidIsRefusedWithoutReachingTheStore) {
  CheckVerificationRequest request;
  request.set_verification_id("verification:../../x");
  request.set_code("482913");
  EXPECT_THAT(verifier_.Check(kCaller, request).status().message(),
              HasSubstr("verification_id: is not a verification id"));
  verify::v1::CancelVerificationRequest cancel;
  cancel.set_verification_id("x");
  EXPECT_EQ(verifier_.Cancel(kCaller, cancel).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VerifierTest, CancellingAnExpiredVerificationSaysItHadEnded) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  clock_.Advance(absl::Minutes(11));
  verify::v1::CancelVerificationRequest cancel;
  cancel.set_verification_id(started->verification_id());
  EXPECT_TRUE(verifier_.Cancel(kCaller, cancel)->already_ended());
}

TEST_F(VerifierTest, CancelEndsAPendingVerification) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  verify::v1::CancelVerificationRequest cancel;
  cancel.set_verification_id(started->verification_id());
  absl::StatusOr<verify::v1::CancelVerificationResponse> cancelled =
      verifier_.Cancel(kCaller, cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_FALSE(cancelled->already_ended());
  EXPECT_TRUE(verifier_.Cancel(kCaller, cancel)->already_ended());
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_NOT_FOUND);
  EXPECT_EQ(verifier_.Cancel("another-caller", cancel).status().code(),
            absl::StatusCode::kNotFound);
  // The cancel that ended it is in its code's alert's trail, once.
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 1u);
  events::v1::DeliveryEvent event;
  ASSERT_TRUE(event.ParseFromString(published[0].value));
  EXPECT_EQ(event.header().alert_id(), started->alert_id());
  EXPECT_EQ(event.header().caller(), kCaller);
  EXPECT_EQ(event.verification_cancelled().verification_id(), started->verification_id());
}

TEST_F(VerifierTest, EachCheckIsRecordedInTheTrailOfTheCodesAlertWithoutTheCode) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  Check(started->verification_id(), "000000");
  Check(started->verification_id(), "482913");
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 2u);
  std::vector<verify::v1::VerificationStatus> results;
  for (const messaging::OutboundMessage& message : published) {
    EXPECT_EQ(message.topic, "klaxon.delivery.events");
    EXPECT_EQ(message.key, started->alert_id());
    EXPECT_THAT(message.value, AllOf(Not(HasSubstr("482913")), Not(HasSubstr("4155552671"))));
    events::v1::DeliveryEvent event;
    ASSERT_TRUE(event.ParseFromString(message.value));
    EXPECT_EQ(event.header().alert_id(), started->alert_id());
    EXPECT_EQ(event.header().caller(), kCaller);
    EXPECT_EQ(event.verification_checked().verification_id(), started->verification_id());
    results.push_back(event.verification_checked().result());
  }
  EXPECT_THAT(results, ::testing::ElementsAre(verify::v1::VERIFICATION_STATUS_PENDING,
                                              verify::v1::VERIFICATION_STATUS_APPROVED));
  EXPECT_TRUE(observer_.unrecorded.empty());
}

TEST_F(VerifierTest, ACheckWhoseRecordIsRefusedStandsAndIsCounted) {
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  publisher_.FailWith(absl::UnavailableError("Kafka is down"));
  EXPECT_EQ(Check(started->verification_id(), "482913"), verify::v1::VERIFICATION_STATUS_APPROVED);
  ASSERT_EQ(observer_.unrecorded.size(), 1u);
  EXPECT_EQ(observer_.unrecorded[0].code(), absl::StatusCode::kUnavailable);
}

// The alert a check is filed under, from the last record published.
std::string RecordedUnder(const messaging::FakePublisher& publisher) {
  const std::vector<messaging::OutboundMessage> published = publisher.published();
  if (published.empty()) return "";
  events::v1::DeliveryEvent event;
  EXPECT_TRUE(event.ParseFromString(published.back().value));
  return event.header().alert_id();
}

TEST_F(VerifierTest, ACheckBeforeTheIntakeAnswersIsRecordedUnderTheAlertAboutToCarryTheCode) {
  alerts_.hold = true;
  std::optional<absl::StatusOr<StartVerificationResponse>> answer;
  StartVerificationRequest request;
  request.set_recipient(kRecipient);
  request.set_channel(types::v1::CHANNEL_SMS);
  verifier_.Start(kCaller, request, [&answer](absl::StatusOr<StartVerificationResponse> got) {
    answer = std::move(got);
  });
  ASSERT_FALSE(answer.has_value());
  CheckVerificationRequest check;
  check.set_recipient(kRecipient);
  check.set_code("000000");
  ASSERT_EQ(verifier_.Check(kCaller, check)->status(), verify::v1::VERIFICATION_STATUS_PENDING);
  EXPECT_TRUE(observer_.unrecorded.empty());
  EXPECT_EQ(RecordedUnder(publisher_), alerts_.alert_ids[0]);
  alerts_.AnswerHeld();
  ASSERT_TRUE(answer.has_value() && answer->ok());
  EXPECT_EQ((*answer)->alert_id(), alerts_.alert_ids[0]);
}

TEST_F(VerifierTest, ARefusedResendPutsBackTheAlertThatCarriedTheCode) {
  absl::StatusOr<StartVerificationResponse> first = Start();
  ASSERT_TRUE(first.ok());
  alerts_.refusal = absl::UnavailableError("Kafka is down");
  ASSERT_FALSE(Start().ok());
  Check(first->verification_id(), "000000");
  EXPECT_EQ(RecordedUnder(publisher_), first->alert_id());
}

TEST_F(VerifierTest, ARepeatedSendRecordsChecksUnderTheAlertTheIntakeAnswered) {
  alerts_.answer_with = "0190a1b2-0000-7000-8000-0000000000ff";
  absl::StatusOr<StartVerificationResponse> started = Start();
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->alert_id(), alerts_.answer_with);
  Check(started->verification_id(), "000000");
  EXPECT_EQ(RecordedUnder(publisher_), alerts_.answer_with);
}

TEST_F(VerifierTest, ChecksOfAVerificationWhoseCodeWasNeverSentAreCountedUnrecorded) {
  alerts_.refusal = absl::UnavailableError("Kafka is down");
  ASSERT_FALSE(Start().ok());
  alerts_.refusal = absl::OkStatus();
  // The verification exists (a retry resends its code), but no alert carries it.
  CheckVerificationRequest request;
  request.set_recipient(kRecipient);
  request.set_code("000000");
  ASSERT_EQ(verifier_.Check(kCaller, request)->status(), verify::v1::VERIFICATION_STATUS_PENDING);
  EXPECT_TRUE(publisher_.published().empty());
  ASSERT_EQ(observer_.unrecorded.size(), 1u);
  EXPECT_THAT(observer_.unrecorded[0].message(), HasSubstr("names no alert"));
}

// A daily spend cap that three messages, or one message and one call, reach.
class DailySpendTest : public VerifierTest {
 protected:
  DailySpendTest() : VerifierTest(Capped()) {}

  static VerifierOptions Capped() {
    VerifierOptions options = Options();
    options.recipient_starts = {};
    options.spend = *ParseSpendSettings("sms=0.01,voice=0.02", "*=0.03");
    return options;
  }
};

TEST_F(DailySpendTest, StartsPastTheCallersDailySpendAreRefusedUntilTheDayEnds) {
  codes_.Set({"111111", "222222", "333333", "444444"});
  ASSERT_TRUE(Start("+14155552671").ok());
  ASSERT_TRUE(Start("+16135550123", types::v1::CHANNEL_VOICE).ok());
  absl::StatusOr<StartVerificationResponse> refused = Start("+12125550123");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  // The fake clock starts at 2023-11-14T22:13:20Z.
  EXPECT_THAT(
      refused.status().message(),
      AllOf(HasSubstr("caller signup has reached its daily verification spend of 0.03"),
            HasSubstr("a message costs 0.01"), HasSubstr("resets at 2023-11-15T00:00:00Z")));
  EXPECT_EQ(alerts_.sent.size(), 2u);
  EXPECT_THAT(observer_.refusals, ::testing::ElementsAre(StartRefusal::kDailySpend));

  clock_.Advance(absl::Hours(2));
  EXPECT_TRUE(Start("+12125550123").ok());
}

TEST_F(DailySpendTest, AnSmsCostsItsPricePerSegment) {
  codes_.Set({"111111", "222222", "333333"});
  // 200 characters and the code: two segments of GSM-7, 0.02 of the cap's 0.03.
  const std::string two_segments = std::string(200, 'x') + " {code}";
  const auto start = [&](std::string recipient) {
    StartVerificationRequest request;
    request.set_recipient(std::move(recipient));
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_template_(two_segments);
    std::optional<absl::StatusOr<StartVerificationResponse>> answer;
    verifier_.Start(kCaller, request, [&answer](absl::StatusOr<StartVerificationResponse> got) {
      answer = std::move(got);
    });
    return answer.value_or(absl::InternalError("no answer"));
  };
  ASSERT_TRUE(start("+14155552671").ok());
  absl::StatusOr<StartVerificationResponse> refused = start("+16135550123");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("a message costs 0.02 for its 2 segments"));
  // A one-segment message still fits the 0.01 left.
  EXPECT_TRUE(Start("+12125550123").ok());
}

// Limits low enough to reach: two starts per number range, four per caller.
class RangeAndCallerLimitTest : public VerifierTest {
 protected:
  RangeAndCallerLimitTest() : VerifierTest(Limited()) {}

  static VerifierOptions Limited() {
    VerifierOptions options = Options();
    options.prefix_starts = {{.count = 2, .window = absl::Minutes(10)}};
    options.caller_starts = {{"*", {.count = 4, .window = absl::Hours(1)}}};
    return options;
  }
};

TEST_F(RangeAndCallerLimitTest, ARangeOfNumbersIsLimitedThoughEachNumberIsNew) {
  codes_.Set({"111111", "222222", "333333", "444444"});
  ASSERT_TRUE(Start("+14155552671").ok());
  ASSERT_TRUE(Start("+14155552672").ok());
  absl::StatusOr<StartVerificationResponse> refused = Start("+14155552673");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              AllOf(HasSubstr("number range"), HasSubstr("2 verifications per 10 minutes"),
                    HasSubstr("KLAXON_VERIFY_PREFIX_LIMITS"), Not(HasSubstr("415555"))));
  // Another range (its first 7 digits differ) is not held back.
  EXPECT_TRUE(Start("+14155562671").ok());
  EXPECT_THAT(observer_.refusals, ::testing::ElementsAre(StartRefusal::kPrefixLimit));
}

// One start per recipient, two per range: a recipient's refusal must not use up its range.
class OneStartPerRecipientTest : public VerifierTest {
 protected:
  OneStartPerRecipientTest() : VerifierTest(Limited()) {}

  static VerifierOptions Limited() {
    VerifierOptions options = Options();
    options.recipient_starts = {{.count = 1, .window = absl::Hours(1)}};
    options.prefix_starts = {{.count = 2, .window = absl::Hours(1)}};
    return options;
  }
};

TEST_F(OneStartPerRecipientTest, AStartRefusedForItsRecipientLeavesItsRangeAlone) {
  codes_.Set({"111111", "222222", "333333"});
  ASSERT_TRUE(Start("+14155552671").ok());
  absl::StatusOr<StartVerificationResponse> refused = Start("+14155552671");
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("recipient is over its limit"));
  // The range has had one start, not two: another number in it still gets one.
  EXPECT_TRUE(Start("+14155552672").ok());
  EXPECT_THAT(Start("+14155552673").status().message(), HasSubstr("number range"));
}

TEST_F(RangeAndCallerLimitTest, ACallerIsLimitedOverAllItsRecipients) {
  codes_.Set({"111111", "222222", "333333", "444444", "555555"});
  for (const char* recipient : {"+14155552671", "+16135550123", "+12125550123", "+13125550123"}) {
    ASSERT_TRUE(Start(recipient).ok()) << recipient;
  }
  absl::StatusOr<StartVerificationResponse> refused = Start("+17185550123");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("caller signup is over its limit of 4"));
  EXPECT_THAT(observer_.refusals, ::testing::ElementsAre(StartRefusal::kCallerLimit));
}

}  // namespace
}  // namespace klaxon::ingress::verification
