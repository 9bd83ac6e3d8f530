// Escalation chains end to end on the sandbox (docs/adr/0029), through the real ingress, Redis,
// Kafka, workers and audit: a chain of three where nobody answers the first, the second
// acknowledges (a key press on a call; an "ACK <code>" reply to a text) and the third is never
// paged. GetAlert on the chain's id shows every page, who was paged and when, and who
// acknowledged. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/time_util.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::escalation_chain_test {
namespace {

using alerts::v1::Alert;
using google::protobuf::util::TimeUtil;

constexpr absl::Duration kWait = absl::Seconds(60);
// The first step's wait before the second, and the second's before the third: long enough for
// the second page to be answered on a loaded two-core machine before the third is due.
constexpr int64_t kFirstSpacingSeconds = 5;
constexpr int64_t kSecondSpacingSeconds = 10;

// The tests share one suite: each chain pages numbers of its own.
class EscalationChainE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() { StartSharedSuite(); }

  // Sends a chain of `recipients`, one page each, and returns its id.
  std::string SendChain(types::v1::Channel channel, const std::vector<std::string>& recipients,
                        const std::string& key) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_text("db-1 is down");
    request.set_idempotency_key(key);
    const std::vector<int64_t> spacing = {kFirstSpacingSeconds, kSecondSpacingSeconds, 60};
    for (size_t i = 0; i < recipients.size(); ++i) {
      alerts::v1::EscalationStep* step = request.add_escalation();
      step->set_recipient(recipients[i]);
      *step->mutable_spacing() = TimeUtil::SecondsToDuration(spacing[i]);
    }
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc =
        suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response.alert_id();
  }

  // The chain once audit shows it acknowledged and its third page ended, or the last answer.
  Alert Settled(const std::string& chain_id) {
    const absl::Time deadline =
        absl::Now() + absl::Seconds(kFirstSpacingSeconds + kSecondSpacingSeconds) + kWait;
    Alert chain;
    while (absl::Now() < deadline) {
      chain = WaitForStatus(*suite_->QueryStub(), chain_id, types::v1::ALERT_STATUS_ACKNOWLEDGED,
                            absl::Seconds(5));
      if (chain.escalation().pages_size() == 3 &&
          chain.escalation().pages(2).status() == types::v1::ALERT_STATUS_CANCELLED) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
    return chain;
  }

  // What every chain shows once its second page acknowledged and its third was not paged.
  void ExpectSecondAcknowledgedThirdNeverPaged(const Alert& chain,
                                               const std::vector<std::string>& recipients,
                                               const std::string& kind) {
    EXPECT_EQ(chain.status(), types::v1::ALERT_STATUS_ACKNOWLEDGED) << chain.DebugString();
    EXPECT_EQ(chain.escalation_id(), chain.alert_id());
    EXPECT_EQ(chain.escalation_step(), 1u);
    const alerts::v1::Escalation& escalation = chain.escalation();
    ASSERT_EQ(escalation.pages_size(), 3) << chain.DebugString();
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(escalation.pages(i).recipient(), recipients[static_cast<size_t>(i)]);
      EXPECT_EQ(escalation.pages(i).escalation_step(), static_cast<uint32_t>(i + 1));
      EXPECT_TRUE(escalation.pages(i).text().empty());
    }
    EXPECT_EQ(escalation.pages(0).alert_id(), chain.alert_id());
    // Who was paged and when: the first two, each with an attempt Twilio took.
    ASSERT_GE(escalation.pages(0).attempts_size(), 1);
    ASSERT_GE(escalation.pages(1).attempts_size(), 1);
    EXPECT_FALSE(escalation.pages(1).attempts(0).twilio_sid().empty());
    // The second page one spacing after the chain began (docs/adr/0029: a step starts from when
    // the chain began, not from when its first page reached Twilio, which a loaded machine can
    // delay by seconds); the second allowed is for the chain's record being made just after its
    // id.
    EXPECT_GE(TimeUtil::TimestampToMilliseconds(escalation.pages(1).attempts(0).occurred_at()) -
                  TimeUtil::TimestampToMilliseconds(chain.created_at()),
              (kFirstSpacingSeconds - 1) * 1000)
        << chain.DebugString();
    // Who acknowledged.
    EXPECT_EQ(escalation.pages(1).status(), types::v1::ALERT_STATUS_ACKNOWLEDGED);
    EXPECT_EQ(escalation.acknowledged_by(), escalation.pages(1).alert_id());
    EXPECT_EQ(escalation.acknowledged_step(), 2u);
    EXPECT_TRUE(escalation.has_acknowledged_at());
    // The third was never paged.
    EXPECT_EQ(escalation.pages(2).status(), types::v1::ALERT_STATUS_CANCELLED);
    EXPECT_NE(escalation.pages(2).reason().find("not paged"), std::string::npos)
        << escalation.pages(2).reason();
    EXPECT_TRUE(suite_->LedgerTo(recipients[2], "call").empty());
    EXPECT_TRUE(suite_->LedgerTo(recipients[2], "message").empty());
    EXPECT_EQ(suite_->LedgerTo(recipients[0], kind).size(), 1u);
    EXPECT_EQ(suite_->LedgerTo(recipients[1], kind).size(), 1u);
    EXPECT_EQ(suite_->ServiceLogs().find(recipients[2].substr(2)), std::string::npos);
  }
};

TEST_F(EscalationChainE2eKafkaRedisPostgresTest, AKeyPressOnTheSecondCallStopsTheChain) {
  const std::vector<std::string> recipients = {"+14155550181", "+14155550182", "+14155550183"};
  suite_->AddSandboxFaults(R"([{"type": "delivery", "kind": "call", "to": "+14155550181",
                               "outcome": "no-answer"},
                              {"type": "delivery", "kind": "call", "to": "+14155550182",
                               "outcome": "key-press", "digits": "1"}])");
  const std::string chain_id = SendChain(types::v1::CHANNEL_VOICE, recipients, "chain-voice");
  ASSERT_FALSE(chain_id.empty());
  ExpectSecondAcknowledgedThirdNeverPaged(Settled(chain_id), recipients, "call");
}

TEST_F(EscalationChainE2eKafkaRedisPostgresTest, AnAckReplyToTheSecondTextStopsTheChain) {
  const std::vector<std::string> recipients = {"+14155550184", "+14155550185", "+14155550186"};
  const std::string chain_id = SendChain(types::v1::CHANNEL_SMS, recipients, "chain-sms");
  ASSERT_FALSE(chain_id.empty());
  // The second recipient reads the text on their phone and answers with its code.
  std::string body;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(kFirstSpacingSeconds) + kWait;
       body.empty() && absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(200))) {
    for (const nlohmann::json& message : suite_->LedgerTo(recipients[1], "message")) {
      body = message.value("body", "");
    }
  }
  std::smatch code;
  ASSERT_TRUE(std::regex_search(body, code, std::regex("Reply ACK ([0-9]{4}) to acknowledge")))
      << body;
  ASSERT_NO_FATAL_FAILURE(suite_->ReceiveSms(recipients[1], "ACK " + code[1].str()));
  ExpectSecondAcknowledgedThirdNeverPaged(Settled(chain_id), recipients, "message");
}

TEST_F(EscalationChainE2eKafkaRedisPostgresTest, AChainWithARecipientBesideIsRefusedNamingIt) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550187");
  request.set_text("db-1 is down");
  request.set_idempotency_key("chain-bad");
  request.add_escalation()->set_recipient("+14155550188");
  alerts::v1::SendAlertResponse response;
  const grpc::Status rpc =
      suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
  EXPECT_EQ(rpc.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(rpc.error_message().rfind("recipient: ", 0), 0u) << rpc.error_message();
}

}  // namespace
}  // namespace klaxon::e2e::escalation_chain_test
