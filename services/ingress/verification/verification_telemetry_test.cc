#include "services/ingress/verification/verification_telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace klaxon::ingress::verification {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class VerificationTelemetryTest : public ::testing::Test {
 protected:
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("verification-telemetry").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  VerificationTelemetry telemetry_{registry_, logger_};
};

TEST_F(VerificationTelemetryTest, AnUnrecordedCheckIsLoggedWithItsReason) {
  telemetry_.OnCheckUnrecorded(absl::UnavailableError("Kafka: all brokers down"));
  EXPECT_THAT(sink_.Lines(), ElementsAre(AllOf(HasSubstr("\"verification_check_unrecorded\""),
                                               HasSubstr("\"code\":\"UNAVAILABLE\""),
                                               HasSubstr("all brokers down"))));
}

TEST_F(VerificationTelemetryTest, ChecksAreCountedByTheirResultsWord) {
  telemetry_.OnChecked(verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS, std::nullopt);
  bool counted = false;
  for (const prometheus::MetricFamily& family : registry_.Collect()) {
    if (family.name != "klaxon_verification_checks_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      counted = counted || (metric.label.size() == 1 && metric.label[0].value == "max_attempts" &&
                            metric.counter.value == 1);
    }
  }
  EXPECT_TRUE(counted);
}

}  // namespace
}  // namespace klaxon::ingress::verification
