// The DLQ end to end (docs/adr/0008, "The DLQ is a table, and a replay is a new alert"): an SMS
// whose every attempt the sandbox refuses with 503 ends FAILED in klaxon.dlq; audit lists it,
// opens it, and replays it as a new alert once the fault has run out; the new alert is
// delivered, the old one stays FAILED, and replaying again answers with the same alert and sends
// nothing twice; the same over HTTP/JSON. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::dead_letter_replay_test {
namespace {

using alerts::v1::Alert;
using alerts::v1::DeadLetterRecord;

// Long enough for consumer group joins (request topic, tiers, the DLQ) on a loaded machine.
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr int kMaxAttempts = 2;
constexpr char kRecipient[] = "+14155550301";
constexpr char kText[] = "disk full on db-1";

class DeadLetterReplayE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.worker_env = {{"KLAXON_RETRY_BASE", "100ms"},
                                     {"KLAXON_RETRY_CAP", "1s"},
                                     {"KLAXON_MAX_ATTEMPTS", std::to_string(kMaxAttempts)}}}));
  }

  std::string Send(const std::string& recipient, const std::string& key) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(recipient);
    request.set_text(kText);
    request.set_idempotency_key(key);
    request.mutable_ttl()->set_seconds(600);
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc =
        suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response.alert_id();
  }

  alerts::v1::ListDeadLettersResponse ListDeadLetters(bool include_replayed) {
    alerts::v1::ListDeadLettersRequest request;
    request.set_include_replayed(include_replayed);
    alerts::v1::ListDeadLettersResponse response;
    const grpc::Status rpc =
        suite_.DeadLettersStub()->ListDeadLetters(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response;
  }

  // Polls ListDeadLetters until it shows `alert_id`; fails the test after kWait.
  DeadLetterRecord WaitForDeadLetter(const std::string& alert_id) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      const alerts::v1::ListDeadLettersResponse pending = ListDeadLetters(false);
      for (const DeadLetterRecord& record : pending.dead_letters()) {
        if (record.alert_id() == alert_id) return record;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "dead letter " << alert_id << " never listed";
    return {};
  }

  alerts::v1::ReplayDeadLetterResponse Replay(const std::string& alert_id) {
    alerts::v1::ReplayDeadLetterRequest request;
    request.set_alert_id(alert_id);
    alerts::v1::ReplayDeadLetterResponse response;
    const grpc::Status rpc =
        suite_.DeadLettersStub()->ReplayDeadLetter(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response;
  }

  size_t AcceptedTo(const std::string& to) const {
    size_t accepted = 0;
    for (const nlohmann::json& entry : suite_.Ledger()) {
      if (entry["to"] == to) ++accepted;
    }
    return accepted;
  }

  Suite suite_;
};

TEST_F(DeadLetterReplayE2eKafkaRedisPostgresTest, AReplayedDeadLetterIsDeliveredOnceAsANewAlert) {
  // Refuses exactly the original's attempts, then is gone: the replay finds Twilio healthy.
  suite_.AddSandboxFaults(absl::StrCat(R"({"type": "server_error", "to": ")", kRecipient,
                                       R"(", "count": )", kMaxAttempts, R"(, "status": 503})"));
  const std::string original = Send(kRecipient, "dlq-replay");
  ASSERT_EQ(
      WaitForStatus(*suite_.QueryStub(), original, types::v1::ALERT_STATUS_FAILED, kWait).status(),
      types::v1::ALERT_STATUS_FAILED);

  const DeadLetterRecord listed = WaitForDeadLetter(original);
  EXPECT_EQ(listed.attempts(), static_cast<uint32_t>(kMaxAttempts));
  EXPECT_EQ(listed.recipient_last4(), "0301");
  EXPECT_EQ(listed.recipient(), "");  // only GetDeadLetter opens it
  alerts::v1::GetDeadLetterRequest get;
  get.set_alert_id(original);
  DeadLetterRecord opened;
  ASSERT_TRUE(
      suite_.DeadLettersStub()->GetDeadLetter(Suite::CallContext().get(), get, &opened).ok());
  EXPECT_EQ(opened.recipient(), kRecipient);
  EXPECT_EQ(opened.text(), kText);

  const alerts::v1::ReplayDeadLetterResponse replayed = Replay(original);
  ASSERT_FALSE(replayed.alert_id().empty());
  EXPECT_NE(replayed.alert_id(), original);
  EXPECT_FALSE(replayed.already_replayed());
  const Alert delivered = WaitForStatus(*suite_.QueryStub(), replayed.alert_id(),
                                        types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(delivered.attempts_size(), 1);

  const alerts::v1::ReplayDeadLetterResponse again = Replay(original);
  EXPECT_EQ(again.alert_id(), replayed.alert_id());
  EXPECT_TRUE(again.already_replayed());

  // The dead letter is no longer pending, but still listed with its new alert.
  const alerts::v1::ListDeadLettersResponse pending = ListDeadLetters(false);
  for (const DeadLetterRecord& record : pending.dead_letters()) {
    EXPECT_NE(record.alert_id(), original);
  }
  bool listed_replayed = false;
  const alerts::v1::ListDeadLettersResponse all = ListDeadLetters(true);
  for (const DeadLetterRecord& record : all.dead_letters()) {
    if (record.alert_id() != original) continue;
    listed_replayed = true;
    EXPECT_EQ(record.replayed_as(), replayed.alert_id());
  }
  EXPECT_TRUE(listed_replayed);

  // The same dead letter over HTTP/JSON (docs/adr/0023): listed, opened and replayed once more,
  // with the answers gRPC gave.
  const testing::HttpResponse listed_over_http =
      suite_.CallHttpApi("GET", "/v1/dead-letters?includeReplayed=true&pageSize=500");
  ASSERT_EQ(listed_over_http.status, 200) << listed_over_http.error << listed_over_http.body;
  bool listed_over_http_replayed = false;
  for (const nlohmann::json& record : nlohmann::json::parse(listed_over_http.body, nullptr, false)
                                          .value("deadLetters", nlohmann::json::array())) {
    if (record.value("alertId", "") != original) continue;
    listed_over_http_replayed = record.value("replayedAs", "") == replayed.alert_id();
  }
  EXPECT_TRUE(listed_over_http_replayed) << listed_over_http.body;
  const testing::HttpResponse opened_over_http =
      suite_.CallHttpApi("GET", "/v1/dead-letters/" + original);
  ASSERT_EQ(opened_over_http.status, 200) << opened_over_http.body;
  EXPECT_EQ(nlohmann::json::parse(opened_over_http.body, nullptr, false).value("recipient", ""),
            kRecipient);
  const testing::HttpResponse replayed_over_http =
      suite_.CallHttpApi("POST", "/v1/dead-letters/" + original + ":replay");
  ASSERT_EQ(replayed_over_http.status, 200) << replayed_over_http.body;
  const nlohmann::json third = nlohmann::json::parse(replayed_over_http.body, nullptr, false);
  EXPECT_EQ(third.value("alertId", ""), replayed.alert_id());
  EXPECT_EQ(third.value("alreadyReplayed", false), true);

  // The later replays republished the same request; the worker's attempt claim sends nothing.
  // A later alert through the same worker being delivered means that copy had its turn.
  const std::string marker = Send("+14155550302", "dlq-marker");
  EXPECT_EQ(
      WaitForStatus(*suite_.QueryStub(), marker, types::v1::ALERT_STATUS_DELIVERED, kWait).status(),
      types::v1::ALERT_STATUS_DELIVERED);
  EXPECT_EQ(AcceptedTo(kRecipient), 1u);
  const Alert original_now =
      WaitForStatus(*suite_.QueryStub(), original, types::v1::ALERT_STATUS_FAILED, kWait);
  EXPECT_EQ(original_now.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(original_now.attempts_size(), kMaxAttempts);
}

}  // namespace
}  // namespace klaxon::e2e::dead_letter_replay_test
