// The channel switches end to end (docs/adr/0012): an SMS accepted before an operator switches
// SMS off waits (WAITING, "channel disabled") instead of being sent or lost; while off, SendAlert
// for SMS is refused with FAILED_PRECONDITION naming the switch, voice is not; once switched on,
// SendAlert takes SMS again and the waiting alert is DELIVERED. The switch is flipped with
// `klaxon-admin channel disable/enable`, as an operator would. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"
#include "tests/support/support.h"

namespace klaxon::e2e::channel_switch_test {
namespace {

using ::testing::HasSubstr;

// Long enough for consumer group joins (request topic, tiers) on a loaded machine.
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr char kQueued[] = "+14155550401";
constexpr char kRefused[] = "+14155550402";

class ChannelSwitchE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.worker_env = {{"KLAXON_CHANNEL_DISABLED_RECHECK", "1s"}}}));
  }

  grpc::Status Send(types::v1::Channel channel, const std::string& recipient,
                    const std::string& key, std::string* alert_id = nullptr) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(recipient);
    request.set_text("disk full on db-1");
    request.set_idempotency_key(key);
    request.mutable_ttl()->set_seconds(600);
    alerts::v1::SendAlertResponse response;
    const grpc::Status status =
        suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    if (alert_id != nullptr) *alert_id = response.alert_id();
    return status;
  }

  // `klaxon-admin channel <args...>` with the suite's Redis; its exit code.
  int Admin(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {suite_.Binary("klaxon-admin"), "channel"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ChildProcess admin(argv, suite_.env(),
                                suite_.LogPath(absl::StrCat("klaxon-admin-", ++admin_runs_)));
    const std::optional<int> exit_code = admin.WaitForExit(kWait);
    EXPECT_EQ(exit_code, 0) << admin.Log();
    return exit_code.value_or(-1);
  }

  alerts::v1::Alert Get(const std::string& alert_id) {
    alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    alerts::v1::Alert alert;
    const grpc::Status status =
        suite_.QueryStub()->GetAlert(Suite::CallContext().get(), request, &alert);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return alert;
  }

  Suite suite_;
  int admin_runs_ = 0;
};

TEST_F(ChannelSwitchE2eKafkaRedisPostgresTest, QueuedSmsWaitsWhileSwitchedOffThenIsDelivered) {
  // The first attempt is refused with a Retry-After, so the alert is accepted and still waiting
  // in Kafka's retry tier when the switch goes off.
  suite_.AddSandboxFaults(
      absl::StrCat(R"({"type":"rate_limit","to":")", kQueued, R"(","count":1,"retry_after_s":8})"));
  std::string queued;
  ASSERT_TRUE(Send(types::v1::CHANNEL_SMS, kQueued, "queued", &queued).ok());
  alerts::v1::Alert waiting;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        waiting = Get(queued);
        return waiting.status() == types::v1::ALERT_STATUS_WAITING;
      },
      kWait))
      << waiting.DebugString();

  ASSERT_EQ(Admin({"disable", "sms", "--reason", "carrier outage"}), 0);
  // The retry comes back while SMS is off: held, not sent, not lost.
  alerts::v1::Alert held;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        held = Get(queued);
        return held.reason().find("channel disabled") != std::string::npos;
      },
      kWait))
      << held.DebugString();
  EXPECT_EQ(held.status(), types::v1::ALERT_STATUS_WAITING);
  for (const nlohmann::json& entry : suite_.Ledger()) {
    EXPECT_NE(entry["to"], kQueued) << "sent while the switch was off";
  }

  // Ingress reads the switches as often as the worker does, so it refuses SMS by now (the
  // poll only covers a slow refresh).
  grpc::Status refused;
  int tries = 0;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        refused = Send(types::v1::CHANNEL_SMS, kRefused, absl::StrCat("refused-", ++tries));
        return refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
      },
      kWait))
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("the sms switch is off (carrier outage)"));
  EXPECT_TRUE(Send(types::v1::CHANNEL_VOICE, kRefused, "voice-still-on").ok());

  ASSERT_EQ(Admin({"enable", "sms"}), 0);
  const alerts::v1::Alert delivered =
      WaitForStatus(*suite_.QueryStub(), queued, types::v1::ALERT_STATUS_DELIVERED, kWait);
  EXPECT_EQ(delivered.status(), types::v1::ALERT_STATUS_DELIVERED) << delivered.DebugString();
  grpc::Status accepted;
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        accepted = Send(types::v1::CHANNEL_SMS, kRefused, "after-enable");
        return accepted.ok();
      },
      kWait))
      << accepted.error_message();
}

}  // namespace
}  // namespace klaxon::e2e::channel_switch_test
