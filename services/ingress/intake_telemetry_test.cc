#include "services/ingress/intake_telemetry.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "absl/status/status.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

class IntakeTelemetryTest : public ::testing::Test {
 protected:
  IntakeTelemetryTest()
      : logger_({.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"), sink_),
        telemetry_(registry_, logger_, clock_, {.lines_per_second = 2, .burst = 3}) {}

  timing::FakeClock clock_;
  log::MemorySink sink_;
  log::Logger logger_;
  prometheus::Registry registry_;
  IntakeTelemetry telemetry_;
};

TEST_F(IntakeTelemetryTest, SamplesRefusalLinesAndSaysHowManyWereLeftOut) {
  for (int i = 0; i < 1000; ++i) {
    telemetry_.OnRejected("", absl::UnauthenticatedError("invalid API key"));
  }
  EXPECT_EQ(sink_.Lines().size(), 3u) << "the burst, then nothing within the same instant";
  clock_.SleepFor(absl::Seconds(1));
  telemetry_.OnRejected("", absl::UnauthenticatedError("invalid API key"));
  ASSERT_EQ(sink_.Lines().size(), 4u);
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("\"suppressed_before\":997"));
  EXPECT_THAT(prometheus::TextSerializer().Serialize(registry_.Collect()),
              HasSubstr("klaxon_sendalert_requests_total{caller=\"\",result=\"UNAUTHENTICATED\"} "
                        "1001"));
}

TEST_F(IntakeTelemetryTest, AFloodOfBadInputLeavesOurOwnFailuresLogged) {
  for (int i = 0; i < 1000; ++i) {
    telemetry_.OnRejected("team", absl::InvalidArgumentError("recipient: is required"));
  }
  telemetry_.OnRejected("team", absl::UnavailableError("redis: connection refused"));
  telemetry_.OnStopRefused("team", stopped_alerts::StopReason::kCancelled,
                           absl::InternalError("kafka: timed out"));
  ASSERT_EQ(sink_.Lines().size(), 5u);
  EXPECT_THAT(sink_.Lines()[3], HasSubstr("connection refused"));
  EXPECT_THAT(sink_.Lines()[4], HasSubstr("cancel_refused"));
}

}  // namespace
}  // namespace klaxon::ingress
