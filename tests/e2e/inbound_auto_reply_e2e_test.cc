// Inbound SMS to the suite's number through ingress's real webhook:
//  - with KLAXON_INBOUND_AUTO_REPLY set, an ordinary message is answered with the configured text
//    as TwiML, an opt-out is not (Twilio answers it itself);
//  - the caller whose alert went to the sender lists the reply, opened, through
//    ListInboundMessages over gRPC and GET /v1/inbound-messages; another caller does not
//    (ADR 0032).
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"
#include "tests/support/http.h"

namespace klaxon::e2e::inbound_auto_reply_test {
namespace {

TEST(InboundAutoReplyE2eKafkaRedisPostgresTest, AnOrdinaryMessageGetsTheNumbersReply) {
  Suite suite;
  ASSERT_NO_FATAL_FAILURE(suite.Start(
      {.env = {{"KLAXON_INBOUND_AUTO_REPLY",
                std::string(R"({")") + Suite::kSender + R"(": "Pages only & no replies."})"}}}));

  std::string twiml;
  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms("+14155550177", "who is this?", &twiml));
  EXPECT_EQ(twiml,
            R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Pages only &amp; no )"
            R"(replies.</Message></Response>)");

  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms("+14155550177", "STOP", &twiml));
  EXPECT_EQ(twiml, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

// Twilio as a peer: the person's STOP comes from the sandbox, which opts them out itself and
// posts it signed to ingress. Klaxon suppresses them (no send reaches Twilio), or, if a send
// races the consent, Twilio refuses it 21610 and Klaxon suppresses them then; never delivered.
TEST(InboundAutoReplyE2eKafkaRedisPostgresTest, AStopTextedThroughTwilioEndsThePersonsPages) {
  Suite suite;
  ASSERT_NO_FATAL_FAILURE(suite.Start());
  constexpr char kPerson[] = "+14155550155";
  ASSERT_NO_FATAL_FAILURE(suite.TextFromPerson(kPerson, "STOP"));
  types::v1::AlertStatus last = types::v1::ALERT_STATUS_UNSPECIFIED;
  for (int i = 0; i < 20 && last != types::v1::ALERT_STATUS_SUPPRESSED; ++i) {
    const std::string id =
        suite.SendAlert(SmsAlert(kPerson, "db-1 is down", absl::StrCat("after-stop-", i)));
    last =
        WaitForStatus(*suite.QueryStub(), id, types::v1::ALERT_STATUS_SUPPRESSED, absl::Seconds(30))
            .status();
    EXPECT_NE(last, types::v1::ALERT_STATUS_DELIVERED) << "paged after STOP, alert " << i;
  }
  EXPECT_EQ(last, types::v1::ALERT_STATUS_SUPPRESSED);
  EXPECT_TRUE(suite.LedgerTo(kPerson, "message").empty()) << "Twilio took a message after STOP";
}

// ListInboundMessages as `api_key`, polled until it lists `count` messages or 60 s passed (audit
// stores what Twilio posted asynchronously); returns the last answer.
alerts::v1::ListInboundMessagesResponse ListUntil(const Suite& suite, const std::string& api_key,
                                                  int count) {
  alerts::v1::ListInboundMessagesResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    listed.Clear();
    const grpc::Status status = suite.InboundMessagesStub()->ListInboundMessages(
        Suite::CallContext(absl::Seconds(10), api_key).get(), {}, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || listed.messages_size() >= count) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return listed;
}

TEST(InboundMessagesE2eKafkaRedisPostgresTest, TheCallerWhoPagedTheSenderListsTheirReply) {
  Suite suite;
  ASSERT_NO_FATAL_FAILURE(suite.Start());
  constexpr char kAna[] = "+14155550166";
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient(kAna);
  request.set_text("disk full on db-1");
  request.set_idempotency_key("inbound-listing-1");
  alerts::v1::SendAlertResponse sent;
  const grpc::Status send =
      suite.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  ASSERT_TRUE(send.ok()) << send.error_message();
  // A reply belongs to the caller whose alert's `accepted` event (the worker's, when Twilio took
  // the attempt) came before it (ADR 0032): wait until audit recorded that event before Ana
  // answers. SENT alone is not enough: a status callback can bring it before the worker's event.
  const auto accepted = [](const alerts::v1::AuditTrail& trail) {
    return std::any_of(
        trail.events().begin(), trail.events().end(),
        [](const alerts::v1::AuditEvent& event) { return event.kind() == "accepted"; });
  };
  const alerts::v1::AuditTrail trail =
      WaitForTrail(*suite.QueryStub(), sent.alert_id(), accepted, absl::Seconds(60));
  ASSERT_TRUE(accepted(trail)) << "audit recorded no accepted event: " << trail.DebugString();

  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms(kAna, "on my way, 5 min"));
  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms("+14155550167", "wrong number?"));

  // Both messages stored, so a listing that wrongly showed the stranger's would show it now.
  // (At least two: a message Kafka delivers again is counted again.)
  const auto stored = [&suite] {
    return MetricValue(suite.Metrics("audit"),
                       R"(klaxon_audit_twilio_events_total{kind="inbound_message",)"
                       R"(result="not_a_status_callback"})");
  };
  const absl::Time stored_deadline = absl::Now() + absl::Seconds(60);
  while (stored() < 2 && absl::Now() < stored_deadline) absl::SleepFor(absl::Milliseconds(200));
  ASSERT_GE(stored(), 2);

  const alerts::v1::ListInboundMessagesResponse listed = ListUntil(suite, Suite::kApiKey, 1);
  ASSERT_EQ(listed.messages_size(), 1) << listed.DebugString();
  EXPECT_EQ(listed.messages(0).from(), kAna);
  EXPECT_EQ(listed.messages(0).body(), "on my way, 5 min");
  EXPECT_FALSE(listed.messages(0).message_sid().empty());
  EXPECT_FALSE(listed.messages(0).personal_data_shredded());
  // The stranger's message went to audit too; nobody paged them, so no caller lists it.
  EXPECT_EQ(ListUntil(suite, Suite::kOtherApiKey, 0).messages_size(), 0);

  // The same list over HTTP/JSON, with the same API key.
  const testing::HttpResponse answered =
      suite.CallHttpApi("GET", "/v1/inbound-messages?pageSize=10");
  ASSERT_EQ(answered.status, 200) << answered.error << answered.body;
  const nlohmann::json page = nlohmann::json::parse(answered.body, nullptr, false);
  ASSERT_TRUE(page.contains("messages")) << answered.body;
  ASSERT_EQ(page["messages"].size(), 1u) << answered.body;
  EXPECT_EQ(page["messages"][0]["from"], kAna);
  EXPECT_EQ(page["messages"][0]["body"], "on my way, 5 min");

  // A phone number stays out of URLs: the sender filter only in the body of :search.
  EXPECT_EQ(suite.CallHttpApi("GET", "/v1/inbound-messages?from=%2B14155550166").status, 400);
  const testing::HttpResponse searched = suite.CallHttpApi(
      "POST", "/v1/inbound-messages:search", absl::StrCat(R"({"from":")", kAna, R"("})"));
  ASSERT_EQ(searched.status, 200) << searched.body;
  EXPECT_EQ(nlohmann::json::parse(searched.body, nullptr, false)["messages"].size(), 1u);
}

}  // namespace
}  // namespace klaxon::e2e::inbound_auto_reply_test
