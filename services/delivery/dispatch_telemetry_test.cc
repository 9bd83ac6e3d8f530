// The status checks' sweep metrics by the names and labels the alert rules and the dashboard use
// (deploy/k8s/monitoring, docs/adr/0045).
#include "services/delivery/dispatch_telemetry.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/timing/fake_clock.h"

namespace klaxon::delivery {
namespace {

class DispatchTelemetryTest : public ::testing::Test {
 protected:
  // The value of `name`'s series whose labels include `labels`, or -1 when there is none.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        size_t matched = 0;
        for (const auto& label : metric.label) {
          auto wanted = labels.find(label.name);
          if (wanted != labels.end() && wanted->second == label.value) ++matched;
        }
        if (matched != labels.size()) continue;
        return family.type == prometheus::MetricType::Gauge ? metric.gauge.value
                                                            : metric.counter.value;
      }
    }
    return -1;
  }

  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("dispatch-telemetry-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  timing::FakeClock clock_;
  DispatchTelemetry telemetry_{"sms", registry_, logger_, clock_};
};

TEST_F(DispatchTelemetryTest, EachLaneReportsItsChecksKeptAndHowLateTheOldestIs) {
  telemetry_.OnSwept(CheckLane::kNormal, {.kept = 40, .oldest_due_for = absl::Seconds(2)});
  telemetry_.OnSwept(CheckLane::kUrgent, {.kept = 3});
  EXPECT_EQ(
      Value("klaxon_delivery_status_checks_waiting", {{"channel", "sms"}, {"lane", "normal"}}), 40);
  EXPECT_EQ(Value("klaxon_delivery_status_check_overdue_seconds",
                  {{"channel", "sms"}, {"lane", "normal"}}),
            2);
  EXPECT_EQ(
      Value("klaxon_delivery_status_checks_waiting", {{"channel", "sms"}, {"lane", "urgent"}}), 3);
  EXPECT_EQ(Value("klaxon_delivery_status_check_overdue_seconds",
                  {{"channel", "sms"}, {"lane", "urgent"}}),
            0);
}

TEST_F(DispatchTelemetryTest, SweepFailuresAreAllCountedAndLoggedAtMostOnceASecond) {
  for (int i = 0; i < 5; ++i) telemetry_.OnSweepFailed(absl::UnavailableError("Redis is down"));
  EXPECT_EQ(Value("klaxon_delivery_status_check_sweep_failures_total", {{"channel", "sms"}}), 5);
  EXPECT_EQ(sink_.Lines().size(), 1u);
  clock_.SleepFor(absl::Seconds(1));
  telemetry_.OnSweepFailed(absl::UnavailableError("Redis is down"));
  ASSERT_EQ(sink_.Lines().size(), 2u);
  EXPECT_NE(sink_.Lines()[1].find("\"lines_left_out\":4"), std::string::npos) << sink_.Lines()[1];
}

TEST_F(DispatchTelemetryTest, ADiscardedCheckIsCountedAmongTheChecksAndLoggedWithItsSid) {
  telemetry_.OnCheckDiscarded({.sid = "SM123", .value = "junk"});
  EXPECT_EQ(
      Value("klaxon_delivery_status_checks_total", {{"channel", "sms"}, {"result", "discarded"}}),
      1);
  ASSERT_EQ(sink_.Lines().size(), 1u);
  EXPECT_NE(sink_.Lines()[0].find("\"sid\":\"SM123\""), std::string::npos) << sink_.Lines()[0];
}

}  // namespace
}  // namespace klaxon::delivery
