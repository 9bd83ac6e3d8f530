// Admission control: above capacity SendAlert is refused at once, with a retry hint, before it
// costs a round trip; nothing is published or reserved for a refused alert.
#include "services/ingress/intake_admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <utility>

#include "common/grpcutil/grpcutil.h"
#include "common/log/log.h"
#include "common/log/memory_sink_lines.h"
#include "common/messaging/testing/holding_publisher.h"
#include "services/ingress/backlog_monitor.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;
using testing::Request;
using testing::SendAndWait;

constexpr types::v1::Channel kSms = types::v1::CHANNEL_SMS;
constexpr types::v1::Channel kVoice = types::v1::CHANNEL_VOICE;
constexpr types::v1::Priority kNormal = types::v1::PRIORITY_UNSPECIFIED;

// The value of `family`'s series whose first label is `label_value` ("" for a family without
// labels); -2 when there is none.
double Value(prometheus::Registry& registry, std::string_view family_name,
             std::string_view label_value = "") {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != family_name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      // A view of the label itself (a conditional with "" would copy it into a temporary).
      const std::string_view value =
          metric.label.empty() ? std::string_view() : std::string_view(metric.label.front().value);
      if (value == label_value) {
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
  }
  return -2;
}

TEST(IntakeAdmissionTest, RefusesPastMaxInFlightWithARetryHintAndAdmitsOnceASlotIsFree) {
  prometheus::Registry registry;
  IntakeAdmission admission({.max_in_flight = 2, .retry_after = absl::Milliseconds(1500)},
                            registry);
  std::optional<absl::StatusOr<IntakeAdmission::Ticket>> first(admission.Admit(kSms, kNormal));
  absl::StatusOr<IntakeAdmission::Ticket> second = admission.Admit(kVoice, kNormal);
  ASSERT_TRUE(first->ok() && second.ok());
  EXPECT_EQ(admission.in_flight(), 2);

  const absl::Status refused = admission.Admit(kSms, kNormal).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("ingress is at capacity: 2 SendAlerts in flight "
                        "(KLAXON_INTAKE_MAX_IN_FLIGHT)"));
  EXPECT_EQ(grpcutil::RetryPushback(refused), absl::Milliseconds(1500));
  EXPECT_EQ(admission.in_flight(), 2) << "a refusal holds no slot";
  EXPECT_EQ(Value(registry, "klaxon_intake_in_flight"), 2);
  EXPECT_EQ(Value(registry, "klaxon_intake_refused_total", "in_flight"), 1);

  first.reset();
  EXPECT_EQ(admission.in_flight(), 1);
  EXPECT_TRUE(admission.Admit(kSms, kNormal).ok());
}

TEST(IntakeAdmissionTest, ABacklogPastTheBoundRefusesThatChannelOnly) {
  prometheus::Registry registry;
  IntakeAdmission admission({.max_backlog = 100}, registry);
  admission.ReportBacklog(kSms, 100);
  EXPECT_TRUE(admission.Admit(kSms, kNormal).ok()) << "at the bound is still admitted";
  admission.ReportBacklog(kSms, 101);
  const absl::Status refused = admission.Admit(kSms, kNormal).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("the CHANNEL_SMS workers are 101 requests behind (more than "
                        "KLAXON_INTAKE_MAX_BACKLOG=100)"));
  EXPECT_TRUE(grpcutil::RetryPushback(refused).has_value());
  EXPECT_EQ(Value(registry, "klaxon_intake_refused_total", "backlog"), 1);
  EXPECT_TRUE(admission.Admit(kVoice, kNormal).ok());

  // A critical alert is not behind that backlog: it travels on the urgent topic.
  EXPECT_TRUE(admission.Admit(kSms, types::v1::PRIORITY_CRITICAL).ok());

  // A backlog that cannot be read admits: a broken probe must not stop paging.
  admission.ReportBacklog(kSms, std::nullopt);
  EXPECT_TRUE(admission.Admit(kSms, kNormal).ok());
}

TEST(IntakeAdmissionTest, ZeroMaxBacklogTurnsTheBacklogBoundOff) {
  prometheus::Registry registry;
  IntakeAdmission admission({.max_backlog = 0}, registry);
  admission.ReportBacklog(kSms, 1'000'000);
  EXPECT_TRUE(admission.Admit(kSms, kNormal).ok());
}

class AlertIntakeAdmissionTest : public ::testing::Test {
 protected:
  prometheus::Registry registry_;
  IntakeAdmission admission_{{.max_in_flight = 1, .max_backlog = 10}, registry_};
  testing::IntakeHarness harness_{{.admission = &admission_}};
};

TEST_F(AlertIntakeAdmissionTest, RefusedAlertIsNeitherPublishedNorReservedSoItsRetryIsAFirstTry) {
  admission_.ReportBacklog(kSms, 11);
  EXPECT_EQ(SendAndWait(harness_.intake(), "billing", Request("k1")).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(harness_.publisher().published().empty());

  admission_.ReportBacklog(kSms, 0);
  absl::StatusOr<alerts::v1::SendAlertResponse> retried =
      SendAndWait(harness_.intake(), "billing", Request("k1"));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_FALSE(retried->duplicate());
  EXPECT_EQ(harness_.publisher().published().size(), 1u);
}

TEST_F(AlertIntakeAdmissionTest, EachSendHoldsItsSlotOnlyWhileItRuns) {
  ASSERT_TRUE(SendAndWait(harness_.intake(), "billing", Request("k1")).ok());
  ASSERT_TRUE(SendAndWait(harness_.intake(), "billing", Request("k2")).ok());
  EXPECT_EQ(admission_.in_flight(), 0);
}

TEST_F(AlertIntakeAdmissionTest, InvalidRequestIsStillNamedAsInvalidWhenOverloaded) {
  absl::StatusOr<IntakeAdmission::Ticket> taken = admission_.Admit(kSms, kNormal);  // the only slot
  ASSERT_TRUE(taken.ok());
  alerts::v1::SendAlertRequest bad = Request("k1");
  bad.set_recipient("not a number");
  EXPECT_EQ(SendAndWait(harness_.intake(), "billing", bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SendAndWait(harness_.intake(), "billing", Request("k1")).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(AlertIntakeAdmissionWhileKafkaAnswersTest, ASendHoldsItsSlotUntilKafkaAnswers) {
  prometheus::Registry registry;
  IntakeAdmission admission({.max_in_flight = 1}, registry);
  messaging::HoldingPublisher kafka;
  testing::IntakeHarness harness({.admission = &admission}, kafka);
  std::optional<absl::StatusOr<alerts::v1::SendAlertResponse>> first;
  const alerts::v1::SendAlertRequest waiting = Request("k1");  // valid until answered
  harness.intake().Send(
      "billing", waiting, {},
      [&](absl::StatusOr<alerts::v1::SendAlertResponse> answer) { first = std::move(answer); });
  ASSERT_EQ(kafka.held(), 1u);
  EXPECT_FALSE(first.has_value());
  EXPECT_EQ(admission.in_flight(), 1);
  EXPECT_EQ(SendAndWait(harness.intake(), "billing", Request("k2")).status().code(),
            absl::StatusCode::kResourceExhausted);

  kafka.ReleaseAll(absl::OkStatus());
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->ok()) << first->status();
  EXPECT_EQ(admission.in_flight(), 0);
}

// Answers from a script: a number, or an error.
class ScriptedBacklog final : public BacklogSource {
 public:
  absl::StatusOr<int64_t> Backlog() override {
    absl::StatusOr<int64_t> next = answers.front();
    if (answers.size() > 1) answers.pop_front();
    return next;
  }
  std::deque<absl::StatusOr<int64_t>> answers;
};

class BacklogMonitorTest : public ::testing::Test {
 protected:
  int Count(std::string_view event) const { return log::LinesContaining(sink_, event); }
  double Gauge(std::string_view channel) {
    return Value(registry_, "klaxon_intake_worker_backlog", channel);
  }

  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("backlog-monitor-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  IntakeAdmission admission_{{.max_backlog = 10}, registry_};
  ScriptedBacklog sms_;
  ScriptedBacklog voice_;
  BacklogMonitor monitor_{
      {{.channel = kSms, .source = sms_}, {.channel = kVoice, .source = voice_}},
      admission_,
      logger_,
      registry_};
};

TEST_F(BacklogMonitorTest, ReportsEachChannelsBacklogToAdmissionAndTheGauge) {
  sms_.answers = {50};
  voice_.answers = {3};
  monitor_.Refresh();
  EXPECT_EQ(admission_.Admit(kSms, kNormal).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(admission_.Admit(kVoice, kNormal).ok());
  EXPECT_EQ(Gauge("sms"), 50);
  EXPECT_EQ(Gauge("voice"), 3);
}

TEST_F(BacklogMonitorTest, AnUnreadableBacklogAdmitsAndIsLoggedOncePerOutage) {
  sms_.answers = {50, absl::UnavailableError("kafka down"), absl::UnavailableError("kafka down"),
                  7};
  voice_.answers = {0};
  monitor_.Refresh();
  monitor_.Refresh();
  EXPECT_TRUE(admission_.Admit(kSms, kNormal).ok());
  EXPECT_EQ(Gauge("sms"), -1);
  monitor_.Refresh();
  monitor_.Refresh();
  EXPECT_EQ(Gauge("sms"), 7);
  EXPECT_EQ(Count("worker_backlog_unreadable"), 1);
  EXPECT_EQ(Count("worker_backlog_readable"), 1);
}

}  // namespace
}  // namespace klaxon::ingress
