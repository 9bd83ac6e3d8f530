#include "services/ingress/webhook_telemetry.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SafeDetailTest, MasksNumbersCutsLengthAndKeepsPrintableAscii) {
  EXPECT_EQ(SafeDetail("no such path /twilio/+14155550100/x", 200), "no such path /twilio/#/x");
  EXPECT_EQ(SafeDetail("call +1 (415) 555-0100 now", 200), "call #now");
  EXPECT_EQ(SafeDetail("ErrorCode must be a whole number", 200),
            "ErrorCode must be a whole number");
  EXPECT_EQ(SafeDetail("attempt 12345", 200), "attempt 12345") << "short numbers stay";
  EXPECT_EQ(SafeDetail("a\nb\x01\xff", 200), "a?b??");
  EXPECT_EQ(SafeDetail(std::string(10'000, 'x'), 8), "xxxxxxxx...");
}

class WebhookTelemetryTest : public ::testing::Test {
 protected:
  WebhookTelemetryTest()
      : logger_({.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"), sink_),
        telemetry_(registry_, logger_, clock_,
                   {.lines_per_second = 2, .burst = 3, .max_detail_bytes = 40}) {}

  timing::FakeClock clock_;
  log::MemorySink sink_;
  log::Logger logger_;
  prometheus::Registry registry_;
  WebhookTelemetry telemetry_;
};

TEST_F(WebhookTelemetryTest, SamplesRefusalLinesAndSaysHowManyWereLeftOut) {
  for (int i = 0; i < 1000; ++i) {
    telemetry_.OnAnswered("unknown", "not_found", 404, absl::ZeroDuration(), "/x");
  }
  EXPECT_EQ(sink_.Lines().size(), 3u) << "the burst, then nothing within the same instant";
  clock_.SleepFor(absl::Seconds(1));
  telemetry_.OnAnswered("unknown", "not_found", 404, absl::ZeroDuration(), "/x");
  ASSERT_EQ(sink_.Lines().size(), 4u);
  EXPECT_THAT(sink_.Lines().back(), HasSubstr("\"suppressed_before\":997"));
  // Every refusal is still counted.
  EXPECT_THAT(prometheus::TextSerializer().Serialize(registry_.Collect()),
              HasSubstr("outcome=\"not_found\",route=\"unknown\",status=\"404\"} 1001"));
}

TEST_F(WebhookTelemetryTest, RefusalDetailIsBoundedAndHoldsNoNumber) {
  telemetry_.OnAnswered("inbound_message", "bad_request", 400, absl::ZeroDuration(),
                        "From +14155550100 " + std::string(5000, 'y'));
  telemetry_.OnServerRefusal(413, "body too large");
  ASSERT_EQ(sink_.Lines().size(), 2u);
  EXPECT_THAT(sink_.Lines()[0], Not(HasSubstr("4155550100")));
  EXPECT_LT(sink_.Lines()[0].size(), 400u);
  EXPECT_THAT(sink_.Lines()[1], HasSubstr("body too large"));
  EXPECT_THAT(prometheus::TextSerializer().Serialize(registry_.Collect()),
              HasSubstr("klaxon_webhook_server_refusals_total{reason=\"body too large\","
                        "status=\"413\"} 1"));
}

}  // namespace
}  // namespace klaxon::ingress
