#include "services/ingress/alert_intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "common/crypto/listed_codes.h"
#include "common/ids/id_generator.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/sms_acks/in_memory_ack_codes.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/in_memory_idempotency_store.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;
using testing::SendAndWait;

constexpr char kFingerprintKey[] = "fingerprint-key-0123456789abcdef";

class RecordingObserver final : public IntakeObserver {
 public:
  void OnAccepted(std::string_view, const alerts::v1::SendAlertRequest&, std::string_view,
                  bool duplicate, absl::Duration) override {
    duplicate ? ++duplicates : ++accepted;
  }
  void OnRejected(std::string_view, const absl::Status& status) override {
    rejected.push_back(status.code());
  }
  int accepted = 0;
  int duplicates = 0;
  std::vector<absl::StatusCode> rejected;
};

class AlertIntakeTest : public ::testing::Test {
 protected:
  AlertIntakeTest()
      : intake_(
            {.topics = {.sms = "t.sms", .voice = "t.voice"}, .fingerprint_key = kFingerprintKey},
            store_, publisher_, transit_.cipher(), observer_, alert_ids_, clock_) {}

  static alerts::v1::SendAlertRequest Request(std::string key = "k1") {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient("+14155552671");
    request.set_text("disk full");
    request.set_idempotency_key(std::move(key));
    return request;
  }

  InMemoryIdempotencyStore store_;
  messaging::FakePublisher publisher_;
  transit::testing::TestTransit transit_;
  RecordingObserver observer_;
  ids::CountingIdGenerator alert_ids_{"alert-"};
  timing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  AlertIntake intake_;
};

TEST_F(AlertIntakeTest, PublishesRequestToChannelTopicKeyedByAlertId) {
  absl::StatusOr<alerts::v1::SendAlertResponse> response =
      SendAndWait(intake_, "billing", Request());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->alert_id(), "alert-1");
  EXPECT_FALSE(response->duplicate());

  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 1u);
  const messaging::OutboundMessage& message = published[0];
  EXPECT_EQ(message.topic, "t.sms");
  EXPECT_EQ(message.key, "alert-1");
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(message.value));
  EXPECT_EQ(event.header().alert_id(), "alert-1");
  EXPECT_EQ(event.header().caller(), "billing");
  EXPECT_EQ(event.header().attempt(), 1u);
  EXPECT_EQ(event.header().occurred_at().seconds(), 1'700'000'000);
  EXPECT_EQ(transit_.Open(event).recipient, "+14155552671");
  EXPECT_EQ(transit_.Open(event).text, "disk full");
}

// Answers of a SendAll, by the order of its calls.
class BatchAnswers {
 public:
  // Calls of `requests`, each answering into its place here.
  std::vector<IntakeCall> Calls(const std::vector<alerts::v1::SendAlertRequest>& requests) {
    answers_.resize(requests.size(), absl::UnknownError("not answered"));
    std::vector<IntakeCall> calls;
    for (size_t i = 0; i < requests.size(); ++i) {
      calls.push_back({.caller = "billing",
                       .request = &requests[i],
                       .done = [this, i](absl::StatusOr<alerts::v1::SendAlertResponse> answer) {
                         answers_[i] = std::move(answer);
                       }});
    }
    return calls;
  }
  const absl::StatusOr<alerts::v1::SendAlertResponse>& operator[](size_t i) const {
    return answers_.at(i);
  }

 private:
  std::vector<absl::StatusOr<alerts::v1::SendAlertResponse>> answers_;
};

TEST_F(AlertIntakeTest, ABatchReservesEveryKeyInOneRoundTrip) {
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), Request("k2"),
                                                              Request("k3")};
  BatchAnswers answers;
  intake_.SendAll(answers.Calls(requests));
  EXPECT_EQ(store_.reserve_calls(), 1);
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].status();
    EXPECT_EQ(answers[i]->alert_id(), "alert-" + std::to_string(i + 1));
  }
  EXPECT_EQ(publisher_.published().size(), 3u);
}

TEST_F(AlertIntakeTest, EachAlertOfABatchIsMarkedPublishedOnceKafkaHasIt) {
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), Request("k2")};
  BatchAnswers answers;
  intake_.SendAll(answers.Calls(requests));
  // A repeat is answered from its record, without a publish.
  const absl::StatusOr<alerts::v1::SendAlertResponse> repeat =
      SendAndWait(intake_, "billing", Request("k2"));
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_TRUE(repeat->duplicate());
  EXPECT_EQ(publisher_.published().size(), 2u);
}

TEST_F(AlertIntakeTest, ABadRequestInABatchIsRefusedAloneAndTheRestAreTakenIn) {
  alerts::v1::SendAlertRequest bad = Request("k2");
  bad.clear_recipient();
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), bad, Request("k3")};
  BatchAnswers answers;
  intake_.SendAll(answers.Calls(requests));
  ASSERT_TRUE(answers[0].ok()) << answers[0].status();
  EXPECT_EQ(answers[1].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(answers[1].status().message(), HasSubstr("recipient"));
  ASSERT_TRUE(answers[2].ok()) << answers[2].status();
  // Each answer names the alert published for its own request.
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 2u);
  for (size_t i : {0u, 2u}) {
    const auto it = std::find_if(published.begin(), published.end(), [&](const auto& message) {
      return message.key == answers[i]->alert_id();
    });
    ASSERT_NE(it, published.end()) << i;
    events::v1::AlertRequested event;
    ASSERT_TRUE(event.ParseFromString(it->value));
    EXPECT_EQ(event.idempotency_key(), requests[i].idempotency_key());
  }
}

TEST_F(AlertIntakeTest, OneKeyTwiceInABatchIsOneAlert) {
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), Request("k1")};
  BatchAnswers answers;
  intake_.SendAll(answers.Calls(requests));
  ASSERT_TRUE(answers[0].ok()) << answers[0].status();
  ASSERT_TRUE(answers[1].ok()) << answers[1].status();
  EXPECT_EQ(answers[1]->alert_id(), answers[0]->alert_id());
  EXPECT_FALSE(answers[0]->duplicate());
  EXPECT_TRUE(answers[1]->duplicate());
  // Neither was published when the other reserved, so both publish the one alert: consumers take
  // it once by its id, as for any repeat that overtakes its first publish.
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].key, answers[0]->alert_id());
  EXPECT_EQ(published[1].key, answers[0]->alert_id());
}

TEST_F(AlertIntakeTest, ABatchTheStoreCannotReserveIsRefusedRetryably) {
  store_.FailWith(absl::UnavailableError("redis down"));
  const std::vector<alerts::v1::SendAlertRequest> requests = {Request("k1"), Request("k2")};
  BatchAnswers answers;
  intake_.SendAll(answers.Calls(requests));
  EXPECT_EQ(answers[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers[1].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertIntakeTest, TheRecipientAndTextLeaveOnlySealed) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  const std::string value = publisher_.published().at(0).value;  // published() is a copy
  EXPECT_EQ(value.find("4155552671"), std::string::npos);
  EXPECT_EQ(value.find("disk full"), std::string::npos);
}

TEST_F(AlertIntakeTest, TheStoredFingerprintIsKeyed) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  absl::StatusOr<IdempotencyRecord> record =
      store_.Reserve("billing", "k1", {.alert_id = "other"}, absl::Hours(1));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->request_fingerprint, RequestFingerprint(kFingerprintKey, Request()));
  EXPECT_NE(record->request_fingerprint,
            RequestFingerprint("another-key-0123456789abcdef", Request()));
}

TEST_F(AlertIntakeTest, RequestCarriesAcceptedAtAndDeadlineFromTtl) {
  auto request = Request();
  request.mutable_ttl()->set_seconds(600);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(event.accepted_at().seconds(), 1'700'000'000);
  EXPECT_EQ(event.deadline().seconds(), 1'700'000'600);
  EXPECT_FALSE(event.has_voice());
}

TEST_F(AlertIntakeTest, RequestCarriesTheAlertsOwnCallbackUrl) {
  auto request = Request();
  request.set_callback_url("https://hooks.example.com/klaxon?alert=db-1");
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(event.callback_url(), "https://hooks.example.com/klaxon?alert=db-1");
}

TEST_F(AlertIntakeTest, DeadlineDefaultsToOneHourAfterAcceptance) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(event.deadline().seconds(), 1'700'003'600);
}

TEST_F(AlertIntakeTest, ScheduledRequestIsHeldUntilSendAtAndLivesItsTtlFromThen) {
  auto request = Request();
  request.mutable_ttl()->set_seconds(600);
  request.mutable_send_at()->set_seconds(1'700'007'200);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(event.accepted_at().seconds(), 1'700'000'000);
  EXPECT_EQ(event.send_at().seconds(), 1'700'007'200);
  EXPECT_EQ(event.not_before().seconds(), 1'700'007'200);
  EXPECT_EQ(event.deadline().seconds(), 1'700'007'800);
}

TEST_F(AlertIntakeTest, RecordsOfAScheduledAlertLastUntilItCanNoLongerBeSent) {
  auto request = Request();
  request.mutable_ttl()->set_seconds(600);
  request.mutable_send_at()->set_seconds(1'700'000'000 + 3 * 24 * 3600);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  // Three days, the time to live and an hour: a retry on day two still finds the alert, and
  // CancelAlert still knows its owner.
  EXPECT_EQ(store_.last_window(), absl::Hours(72) + absl::Minutes(10) + absl::Hours(1));
}

TEST_F(AlertIntakeTest, RecordsOfAnAlertLastTheIdempotencyWindow) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  EXPECT_EQ(store_.last_window(), absl::Hours(24));
}

TEST_F(AlertIntakeTest, SendAtAlreadyPastSendsAtOnce) {
  auto request = Request();
  request.mutable_send_at()->set_seconds(1'699'999'000);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_FALSE(event.has_not_before());
  EXPECT_FALSE(event.has_send_at());
  EXPECT_EQ(event.deadline().seconds(), 1'700'003'600);
}

TEST_F(AlertIntakeTest, KeyReusedWithAnotherSendAtIsRefused) {
  auto request = Request();
  request.mutable_send_at()->set_seconds(1'700'007'200);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  request.mutable_send_at()->set_seconds(1'700'007'260);
  EXPECT_EQ(SendAndWait(intake_, "billing", request).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AlertIntakeTest, VoiceRequestCarriesPolicyWithDefaultsApplied) {
  auto request = Request();
  request.set_channel(types::v1::CHANNEL_VOICE);
  request.mutable_voice()->set_sms_fallback(true);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(event.voice().max_calls(), 3u);
  EXPECT_EQ(event.voice().call_spacing().seconds(), 60);
  EXPECT_TRUE(event.voice().sms_fallback());
}

TEST_F(AlertIntakeTest, VoiceGoesToVoiceTopic) {
  auto request = Request();
  request.set_channel(types::v1::CHANNEL_VOICE);
  ASSERT_TRUE(SendAndWait(intake_, "billing", request).ok());
  EXPECT_EQ(publisher_.published().at(0).topic, "t.voice");
}

TEST_F(AlertIntakeTest, RepeatReturnsSameAlertWithoutPublishingAgain) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> again = SendAndWait(intake_, "billing", Request());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->alert_id(), "alert-1");
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(observer_.duplicates, 1);
}

TEST_F(AlertIntakeTest, SameKeyFromAnotherCallerIsAnotherAlert) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  absl::StatusOr<alerts::v1::SendAlertResponse> other = SendAndWait(intake_, "payments", Request());
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->alert_id(), "alert-2");
  EXPECT_FALSE(other->duplicate());
}

TEST_F(AlertIntakeTest, KeyReusedForDifferentRequestIsRefused) {
  ASSERT_TRUE(SendAndWait(intake_, "billing", Request()).ok());
  auto different = Request();
  different.set_text("another text");
  absl::StatusOr<alerts::v1::SendAlertResponse> response =
      SendAndWait(intake_, "billing", different);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("idempotency_key"));
}

TEST_F(AlertIntakeTest, KafkaFailureIsUnavailableAndRetryRepublishesSameAlert) {
  publisher_.FailWith(absl::DeadlineExceededError("message timed out"));
  absl::StatusOr<alerts::v1::SendAlertResponse> failed = SendAndWait(intake_, "billing", Request());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("retry"));

  publisher_.FailWith(absl::OkStatus());
  absl::StatusOr<alerts::v1::SendAlertResponse> retried =
      SendAndWait(intake_, "billing", Request());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->alert_id(), "alert-1");
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].key, "alert-1");
}

TEST_F(AlertIntakeTest, IdempotencyStoreDownIsUnavailableAndNothingIsPublished) {
  store_.FailWith(absl::UnavailableError("redis is unreachable"));
  EXPECT_EQ(SendAndWait(intake_, "billing", Request()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertIntakeTest, InvalidRequestIsRefusedBeforeAnythingIsStored) {
  auto request = Request();
  request.clear_recipient();
  EXPECT_EQ(SendAndWait(intake_, "billing", request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(observer_.rejected, std::vector{absl::StatusCode::kInvalidArgument});
}

TEST(RequestFingerprintTest, DependsOnTheHmacKey) {
  alerts::v1::SendAlertRequest a;
  a.set_recipient("+14155552671");
  a.set_text("x");
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint("another-key", a));
  EXPECT_EQ(RequestFingerprint(kFingerprintKey, a).size(), 64u);
}

TEST(RequestFingerprintTest, DependsOnEveryFieldButTheKey) {
  alerts::v1::SendAlertRequest a;
  a.set_channel(types::v1::CHANNEL_SMS);
  a.set_recipient("+14155552671");
  a.set_text("x");
  a.set_idempotency_key("k");
  alerts::v1::SendAlertRequest b = a;
  b.set_idempotency_key("other");
  EXPECT_EQ(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
  b.set_channel(types::v1::CHANNEL_VOICE);
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
  b = a;
  (*b.mutable_metadata())["team"] = "db";
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
  b = a;
  b.mutable_ttl()->set_seconds(60);
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
  b = a;
  b.mutable_voice()->set_max_calls(2);
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
  b = a;
  b.set_callback_url("https://hooks.example.com/klaxon");
  EXPECT_NE(RequestFingerprint(kFingerprintKey, a), RequestFingerprint(kFingerprintKey, b));
}

class AlertIntakeAckByReplyTest : public AlertIntakeTest {
 protected:
  static alerts::v1::SendAlertRequest AckRequest(std::string key = "k1") {
    alerts::v1::SendAlertRequest request = Request(std::move(key));
    request.set_ack_by_reply(true);
    request.mutable_ttl()->set_seconds(600);
    return request;
  }

  sms_acks::InMemoryAckCodes codes_;
  crypto::ListedCodes source_{{"4821", "7730"}};
  sms_acks::AckCodeAssigner assigner_{codes_, source_};
  AlertIntake acking_{{.topics = {.sms = "t.sms", .voice = "t.voice"},
                       .fingerprint_key = kFingerprintKey,
                       .ack_codes = &assigner_},
                      store_,
                      publisher_,
                      transit_.cipher(),
                      observer_,
                      alert_ids_,
                      clock_};
};

TEST_F(AlertIntakeAckByReplyTest, TheTextAsksForACodeBoundToTheAlertPastItsTimeToLive) {
  ASSERT_TRUE(SendAndWait(acking_, "billing", AckRequest()).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(0).value));
  EXPECT_EQ(transit_.Open(event).text, "disk full\nReply ACK 4821 to acknowledge.");
  const sms_acks::AckTarget bound{.alert_id = "alert-1", .caller = "billing"};
  const absl::Time until = absl::FromUnixSeconds(1'700'000'600) + kAckReplyGrace;
  EXPECT_EQ(*codes_.Find("+14155552671", "4821", until - absl::Seconds(1)), bound);
  EXPECT_FALSE(codes_.Find("+14155552671", "4821", until)->has_value());
}

TEST_F(AlertIntakeAckByReplyTest, ACodeTheRecipientHoldsIsNotGivenAgain) {
  ASSERT_TRUE(SendAndWait(acking_, "billing", AckRequest("k1")).ok());  // binds 4821
  crypto::ListedCodes again({"4821", "1234"});
  sms_acks::AckCodeAssigner assigner(codes_, again);
  AlertIntake intake({.topics = {.sms = "t.sms", .voice = "t.voice"},
                      .fingerprint_key = kFingerprintKey,
                      .ack_codes = &assigner},
                     store_, publisher_, transit_.cipher(), observer_, alert_ids_, clock_);
  ASSERT_TRUE(SendAndWait(intake, "billing", AckRequest("k2")).ok());
  events::v1::AlertRequested event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published().at(1).value));
  EXPECT_THAT(transit_.Open(event).text, HasSubstr("Reply ACK 1234 to acknowledge."));
}

TEST_F(AlertIntakeAckByReplyTest, NoCodeStoreMeansARefusalNamingTheField) {
  absl::StatusOr<alerts::v1::SendAlertResponse> response =
      SendAndWait(intake_, "billing", AckRequest());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("ack_by_reply:"));
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(AlertIntakeAckByReplyTest, ACodeStoreDownIsRetriedUnderTheSameAlert) {
  codes_.FailWith(absl::UnavailableError("redis is down"));
  EXPECT_EQ(SendAndWait(acking_, "billing", AckRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.published().empty());
  codes_.FailWith(absl::OkStatus());
  absl::StatusOr<alerts::v1::SendAlertResponse> retried =
      SendAndWait(acking_, "billing", AckRequest());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->alert_id(), "alert-1");
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(AlertIntakeAckByReplyTest, AskingForAReplyChangesTheFingerprint) {
  EXPECT_NE(RequestFingerprint(kFingerprintKey, Request()), RequestFingerprint(kFingerprintKey, [] {
              alerts::v1::SendAlertRequest request = Request();
              request.set_ack_by_reply(true);
              return request;
            }()));
}

}  // namespace
}  // namespace klaxon::ingress
