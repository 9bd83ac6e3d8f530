// The chaos run's arithmetic: the schedule it disrupts by and the report it computes.
#include "tests/chaos/chaos.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

namespace klaxon::chaos {
namespace {

using alerts::v1::Alert;

Alert WithStatus(types::v1::AlertStatus status, std::string reason = "") {
  Alert alert;
  alert.set_status(status);
  alert.set_reason(std::move(reason));
  return alert;
}

nlohmann::json Send(const std::string& callback) { return {{"status_callback", callback}}; }

TEST(ChaosScheduleTest, EachRoundKillsEachWorkerTwiceAndRestartsEachBackendOnce) {
  const std::vector<ChaosStep> steps = ChaosSchedule(absl::Seconds(120), 2);
  auto count = [&](ChaosStep::Action action, Backend backend) {
    return std::count_if(steps.begin(), steps.end(), [&](const ChaosStep& step) {
      return step.action == action &&
             (action != ChaosStep::Action::kRestartBackend || step.backend == backend);
    });
  };
  EXPECT_EQ(count(ChaosStep::Action::kCrashSmsWorker, Backend::kKafka), 4);
  EXPECT_EQ(count(ChaosStep::Action::kCrashVoiceWorker, Backend::kKafka), 4);
  EXPECT_EQ(count(ChaosStep::Action::kRestartBackend, Backend::kKafka), 2);
  EXPECT_EQ(count(ChaosStep::Action::kRestartBackend, Backend::kRedis), 2);
  EXPECT_EQ(count(ChaosStep::Action::kRestartBackend, Backend::kPostgres), 2);
}

TEST(ChaosScheduleTest, StepsAreInOrderAndEndBeforeTheLoad) {
  const std::vector<ChaosStep> steps = ChaosSchedule(absl::Seconds(60), 1);
  EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end(),
                             [](const ChaosStep& a, const ChaosStep& b) { return a.at < b.at; }));
  EXPECT_GT(steps.front().at, absl::ZeroDuration());
  EXPECT_LT(steps.back().at, absl::Seconds(60));
}

TEST(ChaosTallyTest, CountsASecondSendOfTheSameAttemptAsADuplicate) {
  ChaosReport report;
  Tally({WithStatus(types::v1::ALERT_STATUS_DELIVERED)},
        {Send("http://h/twilio/messages/status?alert_id=a&attempt=1"),
         Send("http://h/twilio/messages/status?alert_id=a&attempt=1"),
         Send("http://h/twilio/messages/status?alert_id=a&attempt=2")},
        report);
  EXPECT_EQ(report.sends, 3);
  EXPECT_EQ(report.duplicates, 1);
  EXPECT_EQ(report.unattributed, 0);
}

TEST(ChaosTallyTest, CountsStatusChecksByResultFromAWorkerLog) {
  ChaosReport report;
  TallyStatusChecks(
      R"({"ts":"t","level":"info","event":"status_checked","result":"final_arrived"}
{"ts":"t","level":"info","event":"twilio_answered","result":"accepted"}
not json
{"ts":"t","level":"info","event":"status_checked","result":"final"}
{"ts":"t","level":"info","event":"status_checked","result":"final_arrived"}
)",
      report);
  EXPECT_EQ(report.status_checks_by_result,
            (std::map<std::string, int64_t>{{"final", 1}, {"final_arrived", 2}}));
  report.sends = 4;
  EXPECT_EQ(report.ToJson()["status_reads_per_send"], 0.25);
}

TEST(ChaosTallyTest, CountsASendWithoutAlertAndAttemptAsUnattributed) {
  ChaosReport report;
  Tally({}, {Send("http://h/twilio/messages/status"), Send("")}, report);
  EXPECT_EQ(report.unattributed, 2);
  EXPECT_EQ(report.duplicates, 0);
}

TEST(ChaosTallyTest, CountsAnAlertThatIsNotFinalAsLost) {
  ChaosReport report;
  Tally({WithStatus(types::v1::ALERT_STATUS_SENT), Alert()}, nlohmann::json::array(), report);
  EXPECT_EQ(report.accepted, 2);
  EXPECT_EQ(report.lost, 2);
  EXPECT_EQ(report.lost_by_status["ALERT_STATUS_SENT"], 1);
  EXPECT_EQ(report.lost_by_status["ALERT_STATUS_UNSPECIFIED"], 1);
}

TEST(ChaosTallyTest, GroupsFinalAlertsThatWereNotDeliveredByReason) {
  ChaosReport report;
  Tally({WithStatus(types::v1::ALERT_STATUS_DELIVERED),
         WithStatus(types::v1::ALERT_STATUS_FAILED, "unknown"),
         WithStatus(types::v1::ALERT_STATUS_FAILED, "unknown")},
        nlohmann::json::array(), report);
  EXPECT_EQ(report.final_by_status["ALERT_STATUS_DELIVERED"], 1);
  EXPECT_EQ(report.final_by_status["ALERT_STATUS_FAILED"], 2);
  EXPECT_EQ(report.failed_by_reason["ALERT_STATUS_FAILED: unknown"], 2);
  EXPECT_EQ(report.lost, 0);
}

}  // namespace
}  // namespace klaxon::chaos
