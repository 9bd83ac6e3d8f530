#pragma once
// DispatchObserver and StatusCheckObserver for a worker: what an SRE asks of them. How many
// requests went to Twilio and how they ended (by result and Twilio code), how long Twilio took, how
// often a redelivered request only republished its outcome, and how often work was handed back for
// a retry; unique alerts against attempts, decisions by kind, retries by delay, dead letters by
// cause, deferrals by limit, pacing waits, and the time from SendAlert to Twilio's acceptance. For
// the status checks (docs/adr/0014): checks by result, Twilio reads (divided by accepted outcomes:
// reads per accepted attempt), and when a read last found a final status whose callback never
// arrived; the checks waiting in Redis (docs/adr/0045), how late the sweeps take them, and sweeps
// Redis failed. For each Twilio account: its circuit breaker's state and changes (docs/adr/0035),
// and what Twilio charged, by account and caller (docs/adr/0036).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/log/line_sampler.h"
#include "common/log/log.h"
#include "common/timing/clock.h"
#include "services/delivery/account_breakers.h"
#include "services/delivery/dispatcher.h"
#include "services/delivery/status_check_sweeper.h"
#include "services/delivery/status_checker.h"

namespace klaxon::delivery {

class DispatchTelemetry final : public DispatchObserver,
                                public StatusCheckObserver,
                                public StatusCheckSweepObserver {
 public:
  // `channel` labels every series ("sms" or "voice"); `clock` paces the sweeps' failure lines.
  DispatchTelemetry(std::string channel, prometheus::Registry& registry, const log::Logger& logger,
                    timing::Clock& clock);

  void OnSent(const events::v1::AlertRequested& request, std::string_view sender,
              const SendResult& result, absl::Duration latency) override;
  void OnSettled(const events::v1::AlertRequested& request, const SendResult& result) override;
  void OnDecided(const events::v1::AlertRequested& request,
                 const events::v1::DeliveryOutcome& outcome) override;
  void OnAlertAccepted(const events::v1::AlertRequested& request,
                       absl::Duration since_accepted) override;
  void OnRetryScheduled(const events::v1::AlertRequested& request, absl::Duration delay) override;
  void OnDeferred(const events::v1::AlertRequested& request, const std::string& limit) override;
  void OnDeadLettered(const events::v1::AlertRequested& request, std::string_view cause) override;
  void OnPacingWait(const events::v1::AlertRequested& request, absl::Duration wait) override;
  void OnSuppressFailed(const events::v1::AlertRequested& request,
                        const absl::Status& reason) override;
  void OnOutcomeRepublished(const events::v1::AlertRequested& request) override;
  // Both observers': a handed-back check counts as any handed-back request.
  void OnHandedBack(const events::v1::AlertRequested& request, const absl::Status& reason) override;
  void OnStatusRead(const events::v1::AlertRequested& check) override;
  void OnStatusChecked(const events::v1::AlertRequested& check, StatusCheckResult result) override;
  void OnCharged(const events::v1::AlertRequested& check,
                 const events::v1::AttemptCharge& charge) override;
  void OnBudgetUnsettled(const events::v1::AlertRequested& check,
                         const absl::Status& reason) override;

  void OnSwept(CheckLane lane, const DueChecks& due) override;
  // Counted, and logged at most once a second (every sweep fails while Redis is down).
  void OnSweepFailed(const absl::Status& reason) override;
  void OnCheckDiscarded(const ClaimedCheck& check) override;

  // Every account's breaker starts closed.
  void AccountsClosed(const std::vector<std::string>& accounts);
  // AccountBreakers::OnChange: the gauge, the change counted, a log line.
  void OnAccountState(const std::string& account, BreakerState state, const std::string& why);

 private:
  const std::string channel_;
  prometheus::Family<prometheus::Counter>& twilio_requests_;
  prometheus::Histogram& twilio_latency_;
  prometheus::Family<prometheus::Counter>& settlements_;
  prometheus::Family<prometheus::Counter>& status_checks_;
  prometheus::Counter& status_reads_;
  prometheus::Gauge& status_recovered_at_;
  prometheus::Family<prometheus::Gauge>& checks_waiting_;
  prometheus::Family<prometheus::Gauge>& checks_overdue_;
  prometheus::Counter& sweep_failures_;
  prometheus::Family<prometheus::Counter>& cost_;
  prometheus::Family<prometheus::Counter>& segments_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Counter& alerts_;
  prometheus::Histogram& accept_latency_;
  prometheus::Histogram& retry_delay_;
  prometheus::Family<prometheus::Counter>& deferred_;
  prometheus::Family<prometheus::Counter>& dead_lettered_;
  prometheus::Histogram& pacing_wait_;
  prometheus::Counter& republished_;
  prometheus::Counter& handed_back_;
  prometheus::Family<prometheus::Gauge>& account_state_;
  prometheus::Family<prometheus::Gauge>& account_answered_;
  prometheus::Family<prometheus::Counter>& account_changes_;
  const log::Logger& logger_;
  log::LineSampler sweep_failure_lines_;
};

}  // namespace klaxon::delivery
