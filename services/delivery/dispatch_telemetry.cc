#include "services/delivery/dispatch_telemetry.h"

#include <cctype>
#include <utility>

#include "absl/time/clock.h"
#include "common/twilio/price.h"

namespace klaxon::delivery {
namespace {

std::string_view ResultName(SendResult::Kind kind) {
  switch (kind) {
    case SendResult::Kind::kAccepted:
      return "accepted";
    case SendResult::Kind::kRejected:
      return "rejected";
    case SendResult::Kind::kRetryable:
      return "retryable";
    case SendResult::Kind::kUnknown:
      return "unknown";
    case SendResult::Kind::kSlowDown:
      return "slow_down";
    case SendResult::Kind::kThrottled:
      return "throttled";
  }
  return "unknown";
}

// Twilio codes are a metric label only when they are ones Klaxon decides on; any other code is
// "other", which keeps the label's values bounded.
std::string CodeLabel(int code) {
  switch (code) {
    case 0:
    case 20003:
    case 20429:
    case 21211:
    case 21408:
    case 21608:
    case 21610:
    case 21611:
    case 21614:
    case 21617:
    case 30001:
      return std::to_string(code);
    default:
      return "other";
  }
}

std::string KindLabel(events::v1::DeliveryOutcome::Kind kind) {
  std::string name = events::v1::DeliveryOutcome::Kind_Name(kind);
  if (name.starts_with("KIND_")) name = name.substr(5);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600};
}

}  // namespace

DispatchTelemetry::DispatchTelemetry(std::string channel, prometheus::Registry& registry,
                                     const log::Logger& logger, timing::Clock& clock)
    : channel_(std::move(channel)),
      twilio_requests_(prometheus::BuildCounter()
                           .Name("klaxon_twilio_requests_total")
                           .Help("Requests to Twilio by channel, account (its name in "
                                 "KLAXON_TWILIO_ACCOUNTS_FILE), sender (the number or Messaging "
                                 "Service sent from), result (accepted, rejected, retryable, "
                                 "slow_down, throttled, unknown) and Twilio error code")
                           .Register(registry)),
      twilio_latency_(prometheus::BuildHistogram()
                          .Name("klaxon_twilio_request_duration_seconds")
                          .Help("Time Twilio took to answer a create request")
                          .Register(registry)
                          .Add({{"channel", channel_}},
                               prometheus::Histogram::BucketBoundaries{
                                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      settlements_(prometheus::BuildCounter()
                       .Name("klaxon_delivery_settlements_total")
                       .Help("Attempts with a lost answer read back from Twilio, by result")
                       .Register(registry)),
      status_checks_(prometheus::BuildCounter()
                         .Name("klaxon_delivery_status_checks_total")
                         .Help("Status checks of accepted attempts, in case their status callback "
                               "was lost, and reads of what Twilio charged, by result: "
                               "final_arrived and waiting (Twilio not read), final, pending, "
                               "unreadable, expired, charged, charge_pending")
                         .Register(registry)),
      status_reads_(prometheus::BuildCounter()
                        .Name("klaxon_delivery_status_reads_total")
                        .Help("Messages and calls status checks read from Twilio (GET "
                              "Messages/{Sid} or Calls/{Sid}); per accepted attempt: divide by "
                              "klaxon_delivery_outcomes_total{kind=\"accepted\"}")
                        .Register(registry)
                        .Add({{"channel", channel_}})),
      status_recovered_at_(prometheus::BuildGauge()
                               .Name("klaxon_delivery_status_recovered_timestamp_seconds")
                               .Help("When a status check last read a final status from Twilio "
                                     "whose callback had not arrived (Unix time)")
                               .Register(registry)
                               .Add({{"channel", channel_}})),
      checks_waiting_(prometheus::BuildGauge()
                          .Name("klaxon_delivery_status_checks_waiting")
                          .Help("Status checks kept in Redis at the last sweep, due, not due "
                                "and claimed, by lane (urgent: critical alerts'); the channel's "
                                "replicas share them, so take the max over pods, not the sum")
                          .Register(registry)),
      checks_overdue_(prometheus::BuildGauge()
                          .Name("klaxon_delivery_status_check_overdue_seconds")
                          .Help("How long the oldest due status check had been due at the last "
                                "sweep, by lane; above a few seconds the sweeps do not keep up")
                          .Register(registry)),
      sweep_failures_(prometheus::BuildCounter()
                          .Name("klaxon_delivery_status_check_sweep_failures_total")
                          .Help("Sweeps of the status checks Redis did not answer (the checks "
                                "wait, none is lost)")
                          .Register(registry)
                          .Add({{"channel", channel_}})),
      cost_(prometheus::BuildCounter()
                .Name("klaxon_twilio_cost_total")
                .Help("What Twilio charged for accepted attempts, in units of `currency`, as read "
                      "back once each was final, by account and caller")
                .Register(registry)),
      segments_(prometheus::BuildCounter()
                    .Name("klaxon_twilio_segments_total")
                    .Help("SMS segments Twilio billed for accepted attempts, by account and caller")
                    .Register(registry)),
      decisions_(prometheus::BuildCounter()
                     .Name("klaxon_delivery_outcomes_total")
                     .Help("Decisions on attempts by channel, outcome kind and Twilio error code")
                     .Register(registry)),
      alerts_(prometheus::BuildCounter()
                  .Name("klaxon_delivery_alerts_total")
                  .Help("Unique alerts: first attempts decided (compare with "
                        "klaxon_twilio_requests_total for attempts)")
                  .Register(registry)
                  .Add({{"channel", channel_}})),
      accept_latency_(prometheus::BuildHistogram()
                          .Name("klaxon_delivery_accept_latency_seconds")
                          .Help("From SendAlert's acceptance (a scheduled alert's send_at) to "
                                "Twilio's acceptance")
                          .Register(registry)
                          .Add({{"channel", channel_}}, SecondsBuckets())),
      retry_delay_(prometheus::BuildHistogram()
                       .Name("klaxon_delivery_retry_delay_seconds")
                       .Help("Backoff of each retry scheduled on a tier")
                       .Register(registry)
                       .Add({{"channel", channel_}}, SecondsBuckets())),
      deferred_(prometheus::BuildCounter()
                    .Name("klaxon_delivery_deferred_total")
                    .Help("Attempts deferred to a tier, by the limit that held them (or "
                          "settlement of a lost answer, or the caller's schedule)")
                    .Register(registry)),
      dead_lettered_(
          prometheus::BuildCounter()
              .Name("klaxon_delivery_dead_lettered_total")
              .Help("Requests sent to the DLQ, by cause (max_attempts, deadline, budget)")
              .Register(registry)),
      pacing_wait_(prometheus::BuildHistogram()
                       .Name("klaxon_delivery_pacing_wait_seconds")
                       .Help("Waits for the pacing slot and send-time guard before sending")
                       .Register(registry)
                       .Add({{"channel", channel_}}, SecondsBuckets())),
      republished_(prometheus::BuildCounter()
                       .Name("klaxon_outcomes_republished_total")
                       .Help("Redelivered requests whose attempt was already done: the outcome "
                             "was published again instead of sending twice")
                       .Register(registry)
                       .Add({{"channel", channel_}})),
      handed_back_(prometheus::BuildCounter()
                       .Name("klaxon_dispatch_handed_back_total")
                       .Help("Requests handed back to be retried (Twilio throttling or 5xx, "
                             "Redis or Kafka unavailable)")
                       .Register(registry)
                       .Add({{"channel", channel_}})),
      account_state_(prometheus::BuildGauge()
                         .Name("klaxon_twilio_account_breaker_state")
                         .Help("Each Twilio account's circuit breaker as this worker sees it: 0 "
                               "closed (takes sends), 1 half-open (one probe goes), 2 open "
                               "(rested; its rules' sends go to their next account)")
                         .Register(registry)),
      account_answered_(prometheus::BuildGauge()
                            .Name("klaxon_twilio_account_last_answer_timestamp_seconds")
                            .Help("When each Twilio account last answered a send (accepted or "
                                  "refused, not a 5xx, timeout or network error), Unix time")
                            .Register(registry)),
      account_changes_(prometheus::BuildCounter()
                           .Name("klaxon_twilio_account_breaker_changes_total")
                           .Help("Changes of each Twilio account's circuit breaker, by the state "
                                 "it went to")
                           .Register(registry)),
      logger_(logger),
      sweep_failure_lines_(clock, {.lines_per_second = 1, .burst = 1}) {}

void DispatchTelemetry::AccountsClosed(const std::vector<std::string>& accounts) {
  for (const std::string& account : accounts) {
    account_state_.Add({{"channel", channel_}, {"account", account}})
        .Set(static_cast<double>(BreakerState::kClosed));
  }
}

void DispatchTelemetry::OnAccountState(const std::string& account, BreakerState state,
                                       const std::string& why) {
  account_state_.Add({{"channel", channel_}, {"account", account}}).Set(static_cast<double>(state));
  account_changes_
      .Add({{"channel", channel_},
            {"account", account},
            {"state", std::string(BreakerStateName(state))}})
      .Increment();
  logger_.Log(state == BreakerState::kOpen ? log::Level::kWarn : log::Level::kInfo,
              absl::StrCat("account_breaker_", std::string(BreakerStateName(state))),
              {{"account", account}, {"why", why}});
}

void DispatchTelemetry::OnSent(const events::v1::AlertRequested& request, std::string_view sender,
                               const SendResult& result, absl::Duration latency) {
  twilio_requests_
      .Add({{"channel", channel_},
            {"account", result.account},
            {"sender", std::string(sender)},
            {"result", std::string(ResultName(result.kind))},
            {"code", CodeLabel(result.error_code)}})
      .Increment();
  twilio_latency_.Observe(absl::ToDoubleSeconds(latency));
  if (!result.account.empty() &&
      result.account_evidence == SendResult::AccountEvidence::kAnswered) {
    account_answered_.Add({{"channel", channel_}, {"account", result.account}})
        .Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  }
  logger_.Log(result.kind == SendResult::Kind::kAccepted ? log::Level::kInfo : log::Level::kWarn,
              "twilio_answered",
              {{"alert_id", request.header().alert_id()},
               {"attempt", request.header().attempt()},
               {"sender", std::string(sender)},
               {"account", result.account},
               {"result", ResultName(result.kind)},
               {"sid", result.sid},
               {"code", result.error_code},
               {"reason", result.reason},
               {"latency_ms", absl::ToDoubleMilliseconds(latency)}});
}

void DispatchTelemetry::OnSettled(const events::v1::AlertRequested& request,
                                  const SendResult& result) {
  settlements_.Add({{"channel", channel_}, {"result", std::string(ResultName(result.kind))}})
      .Increment();
  logger_.Info("attempt_settled", {{"alert_id", request.header().alert_id()},
                                   {"attempt", request.header().attempt()},
                                   {"result", ResultName(result.kind)},
                                   {"sid", result.sid}});
}

void DispatchTelemetry::OnDecided(const events::v1::AlertRequested& request,
                                  const events::v1::DeliveryOutcome& outcome) {
  decisions_
      .Add({{"channel", channel_},
            {"kind", KindLabel(outcome.kind())},
            {"code", CodeLabel(outcome.twilio_error_code())}})
      .Increment();
  if (request.header().attempt() <= 1) alerts_.Increment();
}

void DispatchTelemetry::OnAlertAccepted(const events::v1::AlertRequested&,
                                        absl::Duration since_accepted) {
  accept_latency_.Observe(absl::ToDoubleSeconds(since_accepted));
}

void DispatchTelemetry::OnRetryScheduled(const events::v1::AlertRequested& request,
                                         absl::Duration delay) {
  retry_delay_.Observe(absl::ToDoubleSeconds(delay));
  logger_.Info("retry_scheduled", {{"alert_id", request.header().alert_id()},
                                   {"attempt", request.header().attempt()},
                                   {"delay_ms", absl::ToDoubleMilliseconds(delay)}});
}

void DispatchTelemetry::OnDeferred(const events::v1::AlertRequested& request,
                                   const std::string& limit) {
  deferred_.Add({{"channel", channel_}, {"limit", limit}}).Increment();
  logger_.Info("attempt_deferred", {{"alert_id", request.header().alert_id()},
                                    {"attempt", request.header().attempt()},
                                    {"limit", limit}});
}

void DispatchTelemetry::OnDeadLettered(const events::v1::AlertRequested& request,
                                       std::string_view cause) {
  dead_lettered_.Add({{"channel", channel_}, {"cause", std::string(cause)}}).Increment();
  logger_.Warn("dead_lettered", {{"alert_id", request.header().alert_id()},
                                 {"attempt", request.header().attempt()},
                                 {"cause", cause}});
}

void DispatchTelemetry::OnPacingWait(const events::v1::AlertRequested&, absl::Duration wait) {
  pacing_wait_.Observe(absl::ToDoubleSeconds(wait));
}

void DispatchTelemetry::OnSuppressFailed(const events::v1::AlertRequested& request,
                                         const absl::Status& reason) {
  logger_.Error("suppress_failed", {{"alert_id", request.header().alert_id()},
                                    {"error", std::string(reason.message())}});
}

void DispatchTelemetry::OnOutcomeRepublished(const events::v1::AlertRequested& request) {
  republished_.Increment();
  logger_.Info("outcome_republished", {{"alert_id", request.header().alert_id()},
                                       {"attempt", request.header().attempt()}});
}

void DispatchTelemetry::OnHandedBack(const events::v1::AlertRequested& request,
                                     const absl::Status& reason) {
  handed_back_.Increment();
  logger_.Warn("delivery_handed_back", {{"alert_id", request.header().alert_id()},
                                        {"attempt", request.header().attempt()},
                                        {"error", std::string(reason.message())}});
}

void DispatchTelemetry::OnStatusRead(const events::v1::AlertRequested&) {
  status_reads_.Increment();
}

void DispatchTelemetry::OnStatusChecked(const events::v1::AlertRequested& check,
                                        StatusCheckResult result) {
  const std::string_view name = StatusCheckResultName(result);
  status_checks_.Add({{"channel", channel_}, {"result", std::string(name)}}).Increment();
  if (result == StatusCheckResult::kFinal) status_recovered_at_.SetToCurrentTime();
  logger_.Info("status_checked", {{"alert_id", check.header().alert_id()},
                                  {"attempt", check.header().attempt()},
                                  {"result", name},
                                  {"sid", check.check_sid()}});
}

void DispatchTelemetry::OnSwept(CheckLane lane, const DueChecks& due) {
  const prometheus::Labels labels = {{"channel", channel_}, {"lane", CheckLaneName(lane)}};
  checks_waiting_.Add(labels).Set(static_cast<double>(due.kept));
  checks_overdue_.Add(labels).Set(absl::ToDoubleSeconds(due.oldest_due_for));
}

void DispatchTelemetry::OnSweepFailed(const absl::Status& reason) {
  sweep_failures_.Increment();
  const std::optional<int64_t> left_out = sweep_failure_lines_.Admit();
  if (!left_out) return;
  logger_.Warn("status_check_sweep_failed",
               {{"error", std::string(reason.message())}, {"lines_left_out", *left_out}});
}

void DispatchTelemetry::OnCheckDiscarded(const ClaimedCheck& check) {
  status_checks_.Add({{"channel", channel_}, {"result", "discarded"}}).Increment();
  logger_.Error(
      "status_check_discarded",
      {{"sid", check.sid}, {"error", "the value kept for this SID in Redis is no status check"}});
}

void DispatchTelemetry::OnCharged(const events::v1::AlertRequested& check,
                                  const events::v1::AttemptCharge& charge) {
  const prometheus::Labels labels = {
      {"channel", channel_}, {"account", charge.account()}, {"caller", check.header().caller()}};
  prometheus::Labels with_currency = labels;
  with_currency.emplace("currency", charge.currency());
  // A counter only goes up: a credit (a negative charge) is audit's record only.
  if (charge.amount_micros() > 0) {
    cost_.Add(with_currency)
        .Increment(static_cast<double>(charge.amount_micros()) /
                   static_cast<double>(twilio::kMicrosPerUnit));
  }
  if (charge.segments() > 0) segments_.Add(labels).Increment(charge.segments());
}

void DispatchTelemetry::OnBudgetUnsettled(const events::v1::AlertRequested& check,
                                          const absl::Status& reason) {
  logger_.Warn("budget_unsettled", {{"alert_id", check.header().alert_id()},
                                    {"attempt", check.header().attempt()},
                                    {"sid", check.check_sid()},
                                    {"error", std::string(reason.message())}});
}

}  // namespace klaxon::delivery
