#include "services/ingress/callback_witness.h"

#include "common/lifecycle/sleep.h"

namespace klaxon::ingress {

CallbackWitness::CallbackWitness(callbacks::CallbackLedger& ledger, WebhookTelemetry& telemetry,
                                 timing::Clock& clock)
    : ledger_(ledger), telemetry_(telemetry), clock_(clock) {}

std::vector<absl::Status> CallbackWitness::RecordFinal(const std::vector<std::string>& sids) {
  return ledger_.RecordFinal(sids);
}

void CallbackWitness::NoteLoss() {
  {
    std::lock_guard lock(mutex_);
    unwritten_ = true;
  }
  telemetry_.OnCallbacksMayBeLost(clock_.Now());
}

absl::Status CallbackWitness::Flush() {
  {
    std::lock_guard lock(mutex_);
    if (!unwritten_) return absl::OkStatus();
    unwritten_ = false;
  }
  // A loss noted while this write runs is noted again and written by the next Flush.
  absl::Status written = ledger_.RecordLoss(clock_.Now());
  if (!written.ok()) {
    std::lock_guard lock(mutex_);
    unwritten_ = true;
  }
  return written;
}

void CallbackWitness::Run(std::stop_token stop, absl::Duration interval) {
  while (!stop.stop_requested()) {
    Flush().IgnoreError();  // kept for the next round; the refusals themselves are counted
    lifecycle::SleepUnlessStopped(interval, stop);
  }
}

}  // namespace klaxon::ingress
