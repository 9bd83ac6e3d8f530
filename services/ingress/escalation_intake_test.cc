// EscalationIntake over a real AlertIntake on in-memory ports: a chain becomes one scheduled
// alert per page, every page naming the chain, and a retried chain sends nothing twice.
#include "services/ingress/escalation_intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/alert_lifetime/alert_lifetime.h"
#include "common/crypto/listed_codes.h"
#include "common/ids/uuid.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/in_memory_ack_codes.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;
using events::v1::AlertRequested;
using ::testing::HasSubstr;

const absl::Time kEscalatedAt = absl::FromUnixSeconds(1'800'000'000);

SendAlertRequest Chain(types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  SendAlertRequest request;
  request.set_channel(channel);
  request.set_text("db-1 is down");
  request.set_idempotency_key("incident-7");
  alerts::v1::EscalationStep* first = request.add_escalation();
  first->set_recipient("+14155550101");
  first->set_attempts(2);
  first->mutable_spacing()->set_seconds(30);
  alerts::v1::EscalationStep* second = request.add_escalation();
  second->set_recipient("+14155550102");
  second->mutable_spacing()->set_seconds(60);
  alerts::v1::EscalationStep* third = request.add_escalation();
  third->set_recipient("+14155550103");
  return request;
}

// Publishes like FakePublisher, but refuses the publishes whose turn (1 first) is listed.
class RefusingPublisher final : public messaging::Publisher {
 public:
  absl::Status Publish(const messaging::OutboundMessage& message, absl::Duration) override {
    std::lock_guard lock(mutex_);
    if (refused_turns_.contains(++turn_)) return absl::UnavailableError("broker down");
    published_.push_back(message);
    return absl::OkStatus();
  }
  void PublishAsync(const messaging::OutboundMessage& message,
                    messaging::PublishDone done) override {
    std::move(done)(Publish(message, absl::InfiniteDuration()));
  }
  void Refuse(std::set<int> turns) {
    std::lock_guard lock(mutex_);
    refused_turns_ = std::move(turns);
    turn_ = 0;
  }
  std::vector<AlertRequested> Requests() {
    std::lock_guard lock(mutex_);
    std::vector<AlertRequested> requests;
    for (const messaging::OutboundMessage& message : published_) {
      requests.emplace_back().ParseFromString(message.value);
    }
    return requests;
  }

 private:
  std::mutex mutex_;
  std::set<int> refused_turns_;
  int turn_ = 0;
  std::vector<messaging::OutboundMessage> published_;
};

class EscalationIntakeTest : public ::testing::Test {
 protected:
  absl::StatusOr<SendAlertResponse> Send(const SendAlertRequest& request) {
    std::promise<absl::StatusOr<SendAlertResponse>> answer;
    escalations_.Send("billing", "billing-key", request,
                      [&answer](absl::StatusOr<SendAlertResponse> response) {
                        answer.set_value(std::move(response));
                      });
    return answer.get_future().get();
  }

  timing::FakeClock clock_{kEscalatedAt};
  ids::UuidV7Generator alert_ids_{clock_};
  InMemoryIdempotencyStore store_;
  RefusingPublisher publisher_;
  transit::testing::TestTransit transit_;
  testing::IgnoringObserver observer_;
  sms_acks::InMemoryAckCodes ack_store_;
  crypto::ListedCodes codes_{{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"}};
  sms_acks::AckCodeAssigner ack_codes_{ack_store_, codes_};
  AlertIntake intake_{{.topics = {.sms = "t.sms", .voice = "t.voice"}, .ack_codes = &ack_codes_},
                      store_,
                      publisher_,
                      transit_.cipher(),
                      observer_,
                      alert_ids_,
                      clock_};
  concurrency::BlockingExecutor continuation_{{.threads = 1}};
  EscalationIntake escalations_{intake_, continuation_, clock_};
};

TEST_F(EscalationIntakeTest, EveryPageIsAnAlertScheduledAtItsOffsetAndNamingTheChain) {
  const absl::StatusOr<SendAlertResponse> sent = Send(Chain());
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->duplicate());

  const std::vector<AlertRequested> pages = publisher_.Requests();
  ASSERT_EQ(pages.size(), 4u) << "two pages of step 1, one each of steps 2 and 3";
  EXPECT_EQ(pages[0].header().alert_id(), sent->alert_id()) << "the chain's id is its first page's";
  EXPECT_FALSE(pages[0].has_send_at()) << "the first page goes at once";
  const std::vector<uint32_t> steps = {1, 1, 2, 3};
  const std::vector<absl::Duration> offsets = {absl::ZeroDuration(), absl::Seconds(30),
                                               absl::Seconds(60), absl::Seconds(120)};
  const std::vector<std::string> keys = {"incident-7", "incident-7/p1", "incident-7/p2",
                                         "incident-7/p3"};
  std::set<std::string> ids;
  for (size_t i = 0; i < pages.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(pages[i].escalation_id(), sent->alert_id());
    EXPECT_EQ(pages[i].escalation_step(), steps[i]);
    EXPECT_EQ(pages[i].idempotency_key(), keys[i]);
    EXPECT_FALSE(pages[i].ack_code().empty()) << "an SMS page says how to acknowledge it";
    if (i > 0) {
      EXPECT_EQ(prototime::FromProto(pages[i].send_at()), kEscalatedAt + offsets[i]);
    }
    ids.insert(pages[i].header().alert_id());
  }
  EXPECT_EQ(ids.size(), 4u);
  absl::StatusOr<transit::AlertPersonalData> third = transit_.cipher().OpenAlert(pages[3]);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->recipient, "+14155550103");
  EXPECT_THAT(third->text, HasSubstr("Reply ACK"));
}

TEST_F(EscalationIntakeTest, AVoicePageIsOneCallAskingForAKeyPress) {
  const absl::StatusOr<SendAlertResponse> sent = Send(Chain(types::v1::CHANNEL_VOICE));
  ASSERT_TRUE(sent.ok()) << sent.status();
  for (const AlertRequested& page : publisher_.Requests()) {
    EXPECT_EQ(page.voice().max_calls(), 1u);
    EXPECT_FALSE(page.voice().sms_fallback());
    EXPECT_TRUE(page.ack_code().empty());
  }
}

TEST_F(EscalationIntakeTest, AChainScheduledLaterStartsAtItsSendAt) {
  SendAlertRequest request = Chain();
  *request.mutable_send_at() = prototime::ToProto(kEscalatedAt + absl::Hours(2));
  ASSERT_TRUE(Send(request).ok());
  const std::vector<AlertRequested> pages = publisher_.Requests();
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_EQ(prototime::FromProto(pages[0].send_at()), kEscalatedAt + absl::Hours(2));
  EXPECT_EQ(prototime::FromProto(pages[3].send_at()),
            kEscalatedAt + absl::Hours(2) + absl::Seconds(120));
}

TEST_F(EscalationIntakeTest, TheChainsIdIsKnownUntilItsLastPageIsPast) {
  SendAlertRequest request = Chain();
  *request.mutable_send_at() = prototime::ToProto(kEscalatedAt + absl::Hours(30));
  ASSERT_TRUE(Send(request).ok());
  // CancelAlert and AcknowledgeAlert on the chain's id find its owner while any page may be sent.
  EXPECT_GT(store_.window_of("billing", "incident-7"), absl::Hours(30) + absl::Seconds(120));
  EXPECT_EQ(store_.window_of("billing", "incident-7"),
            store_.window_of("billing", "incident-7/p3"));
}

TEST_F(EscalationIntakeTest, ARetryLaterTakesInOnlyThePagesRefusedBeforeAtTheSameTimes) {
  publisher_.Refuse({3});  // the second page after the first
  const absl::StatusOr<SendAlertResponse> refused = Send(Chain());
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("escalation page 3 (step 2)"));
  EXPECT_THAT(refused.status().message(), HasSubstr("retry with the same idempotency_key"));
  ASSERT_EQ(publisher_.Requests().size(), 3u);

  publisher_.Refuse({});
  clock_.Advance(absl::Seconds(10));
  const absl::StatusOr<SendAlertResponse> retried = Send(Chain());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->duplicate());
  const std::vector<AlertRequested> pages = publisher_.Requests();
  // The first publish of every page made earlier is kept in the store's "not yet published"
  // state here (the in-memory publisher answers before the mark), so each is published again
  // under its own id; what matters is that the refused page now exists, on the chain's clock.
  std::set<std::string> ids;
  for (const AlertRequested& page : pages) ids.insert(page.header().alert_id());
  EXPECT_EQ(ids.size(), 4u) << "no page got a second alert";
  EXPECT_EQ(prototime::FromProto(pages.back().send_at()), kEscalatedAt + absl::Seconds(60))
      << "the refused page keeps the chain's start, not the retry's";
}

TEST_F(EscalationIntakeTest, TheFirstPageRefusedRefusesTheChainAndTakesInNothingElse) {
  publisher_.Refuse({1});
  EXPECT_EQ(Send(Chain()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(publisher_.Requests().empty());
}

TEST_F(EscalationIntakeTest, TheSameKeyForAnotherChainIsRefused) {
  ASSERT_TRUE(Send(Chain()).ok());
  SendAlertRequest other = Chain();
  other.mutable_escalation(2)->set_recipient("+14155550109");
  EXPECT_EQ(Send(other).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EscalationValidationTest, AChainWhoseLastPageIsWithinTheHorizonIsValid) {
  SendAlertRequest request = Chain();
  *request.mutable_send_at() =
      prototime::ToProto(kEscalatedAt + alert_lifetime::kMaxScheduleAhead - absl::Seconds(120));
  EXPECT_TRUE(ValidateEscalation(request, kEscalatedAt).ok());
}

struct BadChain {
  std::string name;
  std::function<void(SendAlertRequest&)> spoil;
  std::string message;
};

class EscalationValidationTest : public ::testing::TestWithParam<BadChain> {};

TEST_P(EscalationValidationTest, IsRefusedNamingTheField) {
  SendAlertRequest request = Chain();
  GetParam().spoil(request);
  const absl::Status valid = ValidateEscalation(request, kEscalatedAt);
  EXPECT_EQ(valid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(valid.message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Chains, EscalationValidationTest,
    ::testing::Values(
        BadChain{"RecipientBeside", [](auto& r) { r.set_recipient("+14155550100"); },
                 "recipient: must be empty when escalation names the recipients"},
        BadChain{"NoNumber", [](auto& r) { r.mutable_escalation(1)->clear_recipient(); },
                 "escalation[1].recipient: is required"},
        BadChain{"BadNumber", [](auto& r) { r.mutable_escalation(1)->set_recipient("555-0102"); },
                 "escalation[1].recipient: "},
        BadChain{"SameNumberTwice",
                 [](auto& r) { r.mutable_escalation(2)->set_recipient("+14155550101"); },
                 "escalation[2].recipient: the same number as escalation[0]"},
        BadChain{"TooManyAttempts", [](auto& r) { r.mutable_escalation(0)->set_attempts(6); },
                 "escalation[0].attempts: must be 1 to 5"},
        BadChain{"SpacingTooShort",
                 [](auto& r) { r.mutable_escalation(0)->mutable_spacing()->set_seconds(4); },
                 "escalation[0].spacing: must be between 5s and 1h"},
        BadChain{"TooManySteps",
                 [](auto& r) {
                   for (int i = 0; i < 8; ++i) {
                     r.add_escalation()->set_recipient(absl::StrCat("+1415555020", i));
                   }
                 },
                 "escalation: at most 10 steps, got 11"},
        BadChain{"TooManyPages",
                 [](auto& r) {
                   for (int i = 0; i < 5; ++i) {
                     auto* step = r.add_escalation();
                     step->set_recipient(absl::StrCat("+1415555020", i));
                     step->set_attempts(5);
                   }
                 },
                 "escalation: at most 20 pages in all"},
        BadChain{"LastPageBeyondTheScheduleHorizon",
                 [](auto& r) {
                   // The pages come 0, 30, 60 and 120 s after the chain's start.
                   *r.mutable_send_at() = prototime::ToProto(
                       kEscalatedAt + alert_lifetime::kMaxScheduleAhead - absl::Seconds(60));
                 },
                 "send_at: the escalation's last page would come 168h1m from now, and pages may "
                 "be scheduled at most 168h ahead"},
        BadChain{"LongKey", [](auto& r) { r.set_idempotency_key(std::string(125, 'k')); },
                 "idempotency_key: must be 1 to 124"},
        BadChain{"ManyCalls",
                 [](auto& r) {
                   r.set_channel(types::v1::CHANNEL_VOICE);
                   r.mutable_voice()->set_max_calls(3);
                 },
                 "voice.max_calls: each page of an escalation is one call"},
        BadChain{"SmsFallback", [](auto& r) { r.mutable_voice()->set_sms_fallback(true); },
                 "voice.sms_fallback:"},
        BadChain{"ReadOnly", [](auto& r) { r.mutable_voice()->set_read_only(true); },
                 "voice.read_only:"}),
    [](const ::testing::TestParamInfo<BadChain>& chain) { return chain.param.name; });

}  // namespace
}  // namespace klaxon::ingress
