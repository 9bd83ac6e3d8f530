// CancelAlert end to end through the real ingress, Redis and Kafka: the caller that sent an alert
// may cancel it, a repeat says it already was, and an id the caller did not send is NOT_FOUND.
// (Whether the send itself is stopped depends on the race with the sms-worker; the workers' own
// tests cover that.) Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/suite.h"

namespace klaxon::e2e::cancel_alert_test {
namespace {

class CancelAlertE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() { StartSharedSuite(); }

  grpc::Status Cancel(const std::string& alert_id, alerts::v1::CancelAlertResponse& response) {
    alerts::v1::CancelAlertRequest request;
    request.set_alert_id(alert_id);
    return suite_->IntakeStub()->CancelAlert(Suite::CallContext().get(), request, &response);
  }
};

TEST_F(CancelAlertE2eKafkaRedisPostgresTest, SendersCancelIsAcceptedOnceAndRepeatable) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550177");
  request.set_text("disk full on db-1");
  request.set_idempotency_key("cancel-me");
  request.mutable_ttl()->set_seconds(600);
  alerts::v1::SendAlertResponse sent;
  const grpc::Status send =
      suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  ASSERT_TRUE(send.ok()) << send.error_message();

  alerts::v1::CancelAlertResponse first;
  const grpc::Status cancelled = Cancel(sent.alert_id(), first);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error_message();
  EXPECT_FALSE(first.already_cancelled());

  alerts::v1::CancelAlertResponse again;
  const grpc::Status repeated = Cancel(sent.alert_id(), again);
  ASSERT_TRUE(repeated.ok()) << repeated.error_message();
  EXPECT_TRUE(again.already_cancelled());
}

TEST_F(CancelAlertE2eKafkaRedisPostgresTest, AlertNobodySentIsNotFound) {
  alerts::v1::CancelAlertResponse response;
  const grpc::Status status = Cancel("0190f5d2-3c4b-7a00-8000-0000000000ff", response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace klaxon::e2e::cancel_alert_test
