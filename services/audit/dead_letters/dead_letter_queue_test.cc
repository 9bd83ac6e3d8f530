#include "services/audit/dead_letters/dead_letter_queue.h"

#include <string>
#include <vector>

#include "common/ids/id_generator.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/audit/testing/dead_letter_fixtures.h"

namespace klaxon::audit::dead_letter_queue_test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kAlertId;
using testing::kDeadLetteredAt;
using testing::kRecipient;
using testing::kText;
using testing::kTimeToLive;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kOtherAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6e";
const absl::Time kNow = kDeadLetteredAt + absl::Hours(2);

using prototime::FromProto;

class DeadLetterQueueTest : public ::testing::Test, protected testing::FakeBackedDeadLetters {
 protected:
  // Stores a dead letter of `request` the way the handler does.
  void DeadLetterOf(const events::v1::AlertRequested& request, absl::Time at = kDeadLetteredAt) {
    ASSERT_TRUE(handler_
                    .Handle({.topic = "klaxon.dlq",
                             .value = testing::Letter(request, at).SerializeAsString()})
                    .ok());
  }
  void DeadLetter(const std::string& alert_id, const std::string& caller = "billing",
                  types::v1::Channel channel = types::v1::CHANNEL_SMS,
                  absl::Time at = kDeadLetteredAt) {
    DeadLetterOf(testing::Request(alert_id, caller, channel), at);
  }

  events::v1::AlertRequested Published(size_t index) {
    const std::vector<messaging::OutboundMessage> published = publisher_.published();
    events::v1::AlertRequested request;
    EXPECT_LT(index, published.size());
    if (index < published.size()) {
      EXPECT_TRUE(request.ParseFromString(published[index].value));
    }
    return request;
  }

  // The dead_letters_listed lines logged, parsed.
  std::vector<nlohmann::json> Listings() const {
    std::vector<nlohmann::json> listings;
    for (const std::string& line : sink_.Lines()) {
      nlohmann::json parsed = nlohmann::json::parse(line);
      if (parsed["event"] == "dead_letters_listed") listings.push_back(std::move(parsed));
    }
    return listings;
  }

  double Replays(const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_dead_letter_replays_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label[0].value == result) return metric.counter.value;
      }
    }
    return 0;
  }

  messaging::FakePublisher publisher_;
  timing::FakeClock clock_{kNow};
  ids::CountingIdGenerator alert_ids_{"0190f1c4-0000-7000-8000-00000000000"};
  DeadLetterQueue queue_{{.topics = Topics::WithPrefix("t.")},
                         store_,
                         personal_data_,
                         publisher_,
                         metrics_,
                         clock_,
                         alert_ids_,
                         logger_,
                         testing::Transit().cipher()};
};

TEST_F(DeadLetterQueueTest, ReplayPublishesANewAlertOnItsChannelsRequestTopic) {
  DeadLetter(kAlertId);
  absl::StatusOr<ReplayResult> replayed = queue_.Replay({.caller = "billing"}, kAlertId);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->alert_id, "0190f1c4-0000-7000-8000-000000000001");
  EXPECT_FALSE(replayed->already_replayed);
  const std::vector<messaging::OutboundMessage> published = publisher_.published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].topic, "t.klaxon.sms.requests");
  EXPECT_EQ(published[0].key, replayed->alert_id);
}

TEST_F(DeadLetterQueueTest, TheReplayedRequestKeepsWhatWasAskedForWithANewIdAndFirstAttempt) {
  DeadLetter(kAlertId);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  const events::v1::AlertRequested request = Published(0);
  EXPECT_EQ(request.header().alert_id(), "0190f1c4-0000-7000-8000-000000000001");
  EXPECT_EQ(request.header().caller(), "billing");
  EXPECT_EQ(request.header().channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(request.header().attempt(), 1u);
  // Sealed for the new alert id, so it opens as that alert's.
  EXPECT_EQ(testing::Transit().Open(request).recipient, kRecipient);
  EXPECT_EQ(testing::Transit().Open(request).text, kText);
  EXPECT_EQ(Published(0).SerializeAsString().find("4155550123"), std::string::npos);
  EXPECT_EQ(request.idempotency_key(), absl::StrCat("replay:", kAlertId));
  EXPECT_EQ(request.metadata().at("service"), "db");
  EXPECT_FALSE(request.has_not_before());
  EXPECT_EQ(request.deferred_by(), "");
}

TEST_F(DeadLetterQueueTest, ACriticalAlertIsReplayedCriticalOnTheUrgentTopicWithItsCallbackUrl) {
  events::v1::AlertRequested request = testing::Request(kAlertId);
  request.set_priority(types::v1::PRIORITY_CRITICAL);
  request.set_callback_url("https://hooks.example.com/klaxon");
  request.set_template_name("disk_full");
  request.set_template_locale("de");
  request.set_template_version(3);
  DeadLetterOf(request);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].topic, "t.klaxon.sms.requests.urgent");
  const events::v1::AlertRequested replay = Published(0);
  EXPECT_EQ(replay.priority(), types::v1::PRIORITY_CRITICAL);
  EXPECT_EQ(replay.callback_url(), "https://hooks.example.com/klaxon");
  EXPECT_EQ(replay.template_name(), "disk_full");
  EXPECT_EQ(replay.template_locale(), "de");
  EXPECT_EQ(replay.template_version(), 3u);
}

TEST_F(DeadLetterQueueTest, AReplayDropsTheReplyCodeLineOfTheOldAlert) {
  events::v1::AlertRequested request = testing::Request(kAlertId);
  request.set_ack_code("4821");
  testing::Transit().Seal(request, kRecipient, kText + sms_acks::AckInstruction("4821"));
  DeadLetterOf(request);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  const events::v1::AlertRequested replay = Published(0);
  EXPECT_EQ(testing::Transit().Open(replay).text, kText);
  EXPECT_EQ(replay.ack_code(), "");
}

TEST_F(DeadLetterQueueTest, TheReplayIsAcceptedNowWithTheOriginalTimeToLive) {
  DeadLetter(kAlertId);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  const events::v1::AlertRequested request = Published(0);
  EXPECT_EQ(FromProto(request.accepted_at()), kNow);
  EXPECT_EQ(FromProto(request.header().occurred_at()), kNow);
  EXPECT_EQ(FromProto(request.deadline()), kNow + kTimeToLive);
}

TEST_F(DeadLetterQueueTest, AScheduledAlertIsReplayedAtOnceWithItsOwnTimeToLive) {
  events::v1::AlertRequested request = testing::Request(kAlertId);
  const absl::Time send_at = FromProto(request.accepted_at()) + absl::Hours(30);
  *request.mutable_send_at() = prototime::ToProto(send_at);
  *request.mutable_not_before() = prototime::ToProto(send_at);
  *request.mutable_deadline() = prototime::ToProto(send_at + kTimeToLive);
  DeadLetterOf(request);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  const events::v1::AlertRequested replay = Published(0);
  EXPECT_EQ(FromProto(replay.deadline()), kNow + kTimeToLive);
  EXPECT_FALSE(replay.has_not_before());
  EXPECT_FALSE(replay.has_send_at());
}

TEST_F(DeadLetterQueueTest, AVoiceAlertIsReplayedOnTheVoiceTopicWithItsPolicy) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_VOICE);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(publisher_.published()[0].topic, "t.klaxon.voice.requests");
  EXPECT_EQ(Published(0).voice().max_calls(), 2u);
}

TEST_F(DeadLetterQueueTest, ReplayingTwiceAnswersTheSameIdAndRepublishesTheSameRequest) {
  DeadLetter(kAlertId);
  const ReplayResult first = queue_.Replay({.caller = "billing"}, kAlertId).value();
  clock_.SleepFor(absl::Minutes(1));
  const ReplayResult second = queue_.Replay({.caller = "billing"}, kAlertId).value();
  EXPECT_EQ(second.alert_id, first.alert_id);
  EXPECT_TRUE(second.already_replayed);
  // Only the first replay minted an id: the next one is the second.
  EXPECT_EQ(alert_ids_.Next(), "0190f1c4-0000-7000-8000-000000000002");
  // Before the new alert's deadline the copy may close a publish lost to a crash; the workers'
  // attempt claim keeps it from sending twice. It is the same message: same id and deadline, and
  // the same recipient and text (sealed afresh, so their ciphertext differs).
  ASSERT_EQ(publisher_.published().size(), 2u);
  events::v1::AlertRequested again = Published(1);
  events::v1::AlertRequested once = Published(0);
  EXPECT_EQ(testing::Transit().Open(again).recipient, testing::Transit().Open(once).recipient);
  EXPECT_EQ(testing::Transit().Open(again).text, testing::Transit().Open(once).text);
  again.clear_personal();
  once.clear_personal();
  EXPECT_EQ(again.SerializeAsString(), once.SerializeAsString());
  EXPECT_EQ(Replays("replayed"), 1);
  EXPECT_EQ(Replays("already_replayed"), 1);
}

TEST_F(DeadLetterQueueTest, AReplayAfterTheNewAlertsDeadlinePublishesNothing) {
  DeadLetter(kAlertId);
  const ReplayResult first = queue_.Replay({.caller = "billing"}, kAlertId).value();
  clock_.SleepFor(kTimeToLive);
  const ReplayResult second = queue_.Replay({.caller = "billing"}, kAlertId).value();
  EXPECT_EQ(second.alert_id, first.alert_id);
  EXPECT_TRUE(second.already_replayed);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(DeadLetterQueueTest, AFailedPublishIsUnavailableAndReplayingAgainPublishesTheSameId) {
  DeadLetter(kAlertId);
  publisher_.FailWith(absl::UnavailableError("broker down"));
  const absl::StatusOr<ReplayResult> failed = queue_.Replay({.caller = "billing"}, kAlertId);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("0190f1c4-0000-7000-8000-000000000001"));
  publisher_.FailWith(absl::OkStatus());
  const ReplayResult again = queue_.Replay({.caller = "billing"}, kAlertId).value();
  EXPECT_EQ(again.alert_id, "0190f1c4-0000-7000-8000-000000000001");
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(Published(0).header().alert_id(), again.alert_id);
}

TEST_F(DeadLetterQueueTest, AnotherCallersDeadLetterIsNotFound) {
  DeadLetter(kAlertId, "payments");
  EXPECT_EQ(queue_.Get({.caller = "billing"}, kAlertId).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(queue_.Replay({.caller = "billing"}, kAlertId).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(
      queue_.List({.caller = "billing"}, {.include_replayed = true}).value().dead_letters.empty());
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(store_.claims(), 0);
}

TEST_F(DeadLetterQueueTest, AnIdThatIsNotAUuidIsInvalid) {
  EXPECT_EQ(queue_.Get({.caller = "billing"}, "42").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_.Replay({.caller = "billing"}, "42").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DeadLetterQueueTest, GetOpensTheRecipientAndText) {
  DeadLetter(kAlertId);
  const DeadLetterDetail detail = queue_.Get({.caller = "billing"}, kAlertId).value();
  EXPECT_EQ(detail.recipient, kRecipient);
  EXPECT_EQ(detail.text, kText);
  EXPECT_FALSE(detail.shredded);
  EXPECT_EQ(detail.summary.recipient_last4, "0123");
}

TEST_F(DeadLetterQueueTest, AShreddedDeadLetterShowsNoPersonalDataAndCannotBeReplayed) {
  DeadLetter(kAlertId);
  store_.Shred(kAlertId);
  const DeadLetterDetail detail = queue_.Get({.caller = "billing"}, kAlertId).value();
  EXPECT_TRUE(detail.shredded);
  EXPECT_EQ(detail.recipient, "");
  EXPECT_EQ(detail.text, "");
  EXPECT_EQ(queue_.Replay({.caller = "billing"}, kAlertId).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_.claims(), 0);
  EXPECT_EQ(store_.CountPending().value(), 1);
}

TEST_F(DeadLetterQueueTest, ListShowsPendingDeadLettersNewestFirstUnlessAskedForAll) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  auto ids = [](const DeadLetterPage& page) {
    std::vector<std::string> found;
    for (const DeadLetterSummary& summary : page.dead_letters) found.push_back(summary.alert_id);
    return found;
  };
  EXPECT_THAT(ids(queue_.List({.caller = "billing"}, {}).value()), ElementsAre(kOtherAlertId));
  const DeadLetterPage all = queue_.List({.caller = "billing"}, {.include_replayed = true}).value();
  EXPECT_THAT(ids(all), ElementsAre(kOtherAlertId, kAlertId));
  EXPECT_EQ(all.dead_letters[1].replayed_as, "0190f1c4-0000-7000-8000-000000000001");
  EXPECT_EQ(all.dead_letters[1].replayed_at, kNow);
}

TEST_F(DeadLetterQueueTest, ListPagesWithTheTokenItHandsOut) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  const DeadLetterPage first = queue_.List({.caller = "billing"}, {.page_size = 1}).value();
  ASSERT_EQ(first.dead_letters.size(), 1u);
  EXPECT_EQ(first.dead_letters[0].alert_id, kOtherAlertId);
  ASSERT_FALSE(first.next_page_token.empty());
  const DeadLetterPage second =
      queue_.List({.caller = "billing"}, {.page_size = 1, .page_token = first.next_page_token})
          .value();
  ASSERT_EQ(second.dead_letters.size(), 1u);
  EXPECT_EQ(second.dead_letters[0].alert_id, kAlertId);
  EXPECT_EQ(second.next_page_token, "");
}

TEST_F(DeadLetterQueueTest, ListRefusesABadPageSizeOrToken) {
  EXPECT_EQ(queue_.List({.caller = "billing"}, {.page_size = 501}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_.List({.caller = "billing"}, {.page_size = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_.List({.caller = "billing"}, {.page_token = "bm90LWEtdG9rZW4"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DeadLetterQueueTest, APageTokenServesOnlyTheFiltersAndRpcItWasIssuedFor) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  const std::string token =
      queue_.List({.caller = "billing"}, {.filter = {.cause = "max_attempts"}, .page_size = 1})
          .value()
          .next_page_token;
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(
      queue_.List({.caller = "billing"}, {.filter = {.cause = "deadline"}, .page_token = token})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      queue_
          .List({.caller = "payments"}, {.filter = {.cause = "max_attempts"}, .page_token = token})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  // The same operator and selection, the other RPC: ReplayDeadLetters takes what is pending of
  // every caller, as this listing does.
  const Requester ops{.caller = "ops", .is_operator = true};
  const DeadLetterSelection every_callers{
      .all_callers = true, .filter = {.cause = "max_attempts"}, .page_size = 1};
  const std::string listed = queue_.List(ops, every_callers).value().next_page_token;
  ASSERT_FALSE(listed.empty());
  DeadLetterSelection next = every_callers;
  next.page_token = listed;
  EXPECT_TRUE(queue_.List(ops, next).ok());
  EXPECT_EQ(queue_.ReplayMatching(ops, next).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      queue_.List({.caller = "billing"}, {.filter = {.cause = "max_attempts"}, .page_token = token})
          .ok());
}

// Operators (docs/adr/0012).

constexpr char kThirdAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6f";
const Requester kOperator{.caller = "oncall", .is_operator = true};

std::vector<std::string> Ids(const DeadLetterPage& page) {
  std::vector<std::string> found;
  for (const DeadLetterSummary& summary : page.dead_letters) found.push_back(summary.alert_id);
  return found;
}

TEST_F(DeadLetterQueueTest, OperatorListsEveryCallersDeadLettersOthersMayNot) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "payments", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  EXPECT_THAT(Ids(queue_.List(kOperator, {.all_callers = true}).value()),
              ElementsAre(kOtherAlertId, kAlertId));
  EXPECT_THAT(Ids(queue_.List(kOperator, {.all_callers = true, .caller = "billing"}).value()),
              ElementsAre(kAlertId));
  // Without all_callers an operator sees its own, like anyone.
  EXPECT_TRUE(queue_.List(kOperator, {}).value().dead_letters.empty());
  const absl::Status refused = queue_.List({.caller = "billing"}, {.all_callers = true}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(), HasSubstr("operator role"));
}

TEST_F(DeadLetterQueueTest, OperatorListingOtherCallersDeadLettersIsRecordedWithTheSelection) {
  DeadLetter(kAlertId, "billing");
  DeadLetter(kOtherAlertId, "payments", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  const DeadLetterSelection every{.all_callers = true,
                                  .filter = {.cause = "max_attempts", .from = kDeadLetteredAt},
                                  .page_size = 1};
  const DeadLetterPage first = queue_.List(kOperator, every).value();
  ASSERT_THAT(Listings(), SizeIs(1));
  const nlohmann::json line = Listings().back();
  EXPECT_EQ(line["listed_by"], "oncall");
  EXPECT_EQ(line["caller"], "");
  EXPECT_EQ(line["include_replayed"], false);
  EXPECT_EQ(line["cause"], "max_attempts");
  EXPECT_EQ(line["twilio_error_code"], 0);
  EXPECT_EQ(line["dead_lettered_from"],
            absl::FormatTime(absl::RFC3339_full, kDeadLetteredAt, absl::UTCTimeZone()));
  EXPECT_TRUE(line["dead_lettered_before"].is_null());
  EXPECT_EQ(line["continued"], false);
  EXPECT_EQ(line["dead_letters"], 1);
  EXPECT_THAT(line.dump(), Not(HasSubstr("4155550123")));
  EXPECT_THAT(line.dump(), Not(HasSubstr(kText)));

  // Each page is recorded, and so is a listing of one other caller's.
  DeadLetterSelection next = every;
  next.page_token = first.next_page_token;
  ASSERT_TRUE(queue_.List(kOperator, next).ok());
  ASSERT_THAT(Listings(), SizeIs(2));
  EXPECT_EQ(Listings().back()["continued"], true);
  ASSERT_TRUE(queue_.List(kOperator, {.all_callers = true, .caller = "billing"}).ok());
  ASSERT_THAT(Listings(), SizeIs(3));
  EXPECT_EQ(Listings().back()["caller"], "billing");
}

TEST_F(DeadLetterQueueTest, ListingOnesOwnDeadLettersIsNotRecorded) {
  DeadLetter(kAlertId, "oncall");
  ASSERT_TRUE(queue_.List(kOperator, {}).ok());
  ASSERT_TRUE(queue_.List(kOperator, {.all_callers = true, .caller = "oncall"}).ok());
  ASSERT_TRUE(queue_.List({.caller = "billing"}, {}).ok());
  EXPECT_THAT(Listings(), IsEmpty());
}

TEST_F(DeadLetterQueueTest, OperatorShowsAndReplaysAnotherCallersDeadLetterAndIsRecorded) {
  DeadLetter(kAlertId, "billing");
  const DeadLetterDetail detail = queue_.Get(kOperator, kAlertId).value();
  EXPECT_EQ(detail.summary.caller, "billing");
  EXPECT_EQ(detail.recipient, kRecipient);
  ASSERT_FALSE(sink_.Lines().empty());
  EXPECT_THAT(sink_.Lines().back(), ::testing::HasSubstr("\"dead_letter_viewed\""));
  EXPECT_THAT(sink_.Lines().back(), ::testing::HasSubstr("\"viewed_by\":\"oncall\""));
  EXPECT_THAT(sink_.Lines().back(), ::testing::Not(::testing::HasSubstr("4155550123")));
  absl::StatusOr<ReplayResult> replayed = queue_.Replay(kOperator, kAlertId);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  // The new alert is still billing's: the operator only asked for it.
  EXPECT_EQ(Published(0).header().caller(), "billing");
  const std::vector<FakeDeadLetterStore::ReplayRecord> trail = store_.trail();
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].alert_id, kAlertId);
  EXPECT_EQ(trail[0].replayed_as, replayed->alert_id);
  EXPECT_EQ(trail[0].replayed_by, "oncall");
  EXPECT_EQ(trail[0].at, kNow);
  const DeadLetterPage all = queue_.List({.caller = "billing"}, {.include_replayed = true}).value();
  ASSERT_EQ(all.dead_letters.size(), 1u);
  EXPECT_EQ(all.dead_letters[0].replayed_by, "oncall");
  // A caller's own replay is recorded as its own.
  DeadLetter(kOtherAlertId, "billing");
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kOtherAlertId).ok());
  EXPECT_EQ(store_.trail().back().replayed_by, "billing");
}

TEST_F(DeadLetterQueueTest, NonOperatorCannotReachAnotherCallersDeadLetter) {
  DeadLetter(kAlertId, "billing");
  EXPECT_EQ(queue_.Replay({.caller = "payments"}, kAlertId).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(queue_.Replay(kOperator, kOtherAlertId).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DeadLetterQueueTest, BulkReplayTakesThePendingMatchesOfEveryCallerInTheRange) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "payments", types::v1::CHANNEL_VOICE,
             kDeadLetteredAt + absl::Minutes(1));
  // Outside the range: not replayed.
  DeadLetter(kThirdAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Hours(1));
  absl::StatusOr<BulkReplayPage> page =
      queue_.ReplayMatching(kOperator, {.filter = {.cause = "max_attempts",
                                                   .from = kDeadLetteredAt,
                                                   .before = kDeadLetteredAt + absl::Minutes(30)}});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->replayed.size(), 2u);
  EXPECT_EQ(page->replayed[0].dead_letter_id, kOtherAlertId);
  EXPECT_EQ(page->replayed[0].caller, "payments");
  EXPECT_EQ(page->replayed[1].dead_letter_id, kAlertId);
  for (const BulkReplayItem& item : page->replayed)
    EXPECT_TRUE(item.result.ok()) << item.result.status();
  EXPECT_TRUE(page->next_page_token.empty());
  EXPECT_EQ(publisher_.published().size(), 2u);
  EXPECT_EQ(store_.trail().size(), 2u);
  // Nothing left in the range: a second run replays nothing.
  page = queue_.ReplayMatching(
      kOperator,
      {.filter = {.from = kDeadLetteredAt, .before = kDeadLetteredAt + absl::Minutes(30)}});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->replayed.empty());
}

TEST_F(DeadLetterQueueTest, BulkReplayByCauseLeavesOtherCauses) {
  DeadLetter(kAlertId);
  events::v1::DeadLetter deadline = testing::Letter(testing::Request(kOtherAlertId));
  deadline.set_cause("deadline");
  ASSERT_TRUE(handler_.Handle({.topic = "klaxon.dlq", .value = deadline.SerializeAsString()}).ok());
  absl::StatusOr<BulkReplayPage> page =
      queue_.ReplayMatching(kOperator, {.filter = {.cause = "deadline"}});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->replayed.size(), 1u);
  EXPECT_EQ(page->replayed[0].dead_letter_id, kOtherAlertId);
}

TEST_F(DeadLetterQueueTest, BulkReplayPagesAndReportsEachFailureWithoutStopping) {
  DeadLetter(kAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt);
  DeadLetter(kOtherAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(1));
  DeadLetter(kThirdAlertId, "billing", types::v1::CHANNEL_SMS, kDeadLetteredAt + absl::Seconds(2));
  store_.Shred(kOtherAlertId);
  const DeadLetterSelection selection{.filter = {.cause = "max_attempts"}, .page_size = 2};
  absl::StatusOr<BulkReplayPage> first = queue_.ReplayMatching(kOperator, selection);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->replayed.size(), 2u);
  EXPECT_TRUE(first->replayed[0].result.ok());
  EXPECT_EQ(first->replayed[1].result.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_FALSE(first->next_page_token.empty());
  DeadLetterSelection next = selection;
  next.page_token = first->next_page_token;
  absl::StatusOr<BulkReplayPage> second = queue_.ReplayMatching(kOperator, next);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->replayed.size(), 1u);
  EXPECT_EQ(second->replayed[0].dead_letter_id, kAlertId);
  EXPECT_TRUE(second->next_page_token.empty());
}

TEST_F(DeadLetterQueueTest, BulkReplayIsForOperatorsAndNeverUnbounded) {
  DeadLetter(kAlertId);
  EXPECT_EQ(queue_.ReplayMatching({.caller = "billing"}, {.filter = {.cause = "max_attempts"}})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(queue_.ReplayMatching(kOperator, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queue_.ReplayMatching(kOperator, {.filter = {.from = kDeadLetteredAt}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(DeadLetterQueueTest, RefreshPendingSetsTheDepthGauge) {
  DeadLetter(kAlertId);
  DeadLetter(kOtherAlertId);
  ASSERT_TRUE(queue_.Replay({.caller = "billing"}, kAlertId).ok());
  ASSERT_TRUE(queue_.RefreshPending().ok());
  double pending = -1;
  for (const auto& family : registry_.Collect()) {
    if (family.name == "klaxon_audit_dead_letters_pending") pending = family.metric[0].gauge.value;
  }
  EXPECT_EQ(pending, 1);
}

}  // namespace
}  // namespace klaxon::audit::dead_letter_queue_test
