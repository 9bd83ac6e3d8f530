#pragma once
// The heart of a delivery worker: for each consumed AlertRequested it claims the attempt, sends
// it through the Sender, records and publishes the outcome. Shared by sms-worker and voice-worker,
// which differ only in their Sender.
//
// Guarantees: an attempt reaches the Sender at most once (the AttemptLedger claim); an outcome is
// recorded in the ledger, then published, before the consumer may store the request's offset
// (Handle returns OK only then); a redelivered request republishes the recorded outcome. An
// outcome the ledger cannot take yet is kept in memory and recorded on the retry, never resent.
//
// Until delayed retry tiers exist, a retryable failure hands the message back to the consumer,
// which retries it in place with backoff.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/delivery/attempt_ledger.h"
#include "common/delivery/sender.h"
#include "common/messaging/message.h"

namespace klaxon::delivery {

struct DispatcherOptions {
  std::string outcome_topic;  // klaxon.delivery.events with the deployment's prefix
  std::string worker_id;      // unique per worker process: owns this worker's attempt claims
  absl::Duration publish_timeout = absl::Seconds(10);
  // How long a claim without an outcome may belong to a live worker. Past it, the worker that
  // held it is presumed dead mid-send and the attempt's outcome is unknown.
  absl::Duration claim_lease = absl::Minutes(2);
};

// What the dispatcher reports for metrics and logs.
class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  virtual void OnSent(const events::v1::AlertRequested& request, const SendResult& result,
                      absl::Duration latency) = 0;
  virtual void OnOutcomeRepublished(const events::v1::AlertRequested& request) = 0;
  virtual void OnHandedBack(const events::v1::AlertRequested& request,
                            const absl::Status& reason) = 0;
};

class Dispatcher final : public messaging::MessageHandler {
 public:
  Dispatcher(DispatcherOptions options, AttemptLedger& ledger, Sender& sender,
             messaging::Publisher& publisher, DispatchObserver& observer,
             std::function<absl::Time()> now);

  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  absl::StatusOr<events::v1::DeliveryOutcome> Deliver(const events::v1::AlertRequested& request);
  // Records `outcome` in the ledger, or keeps it in memory for the retry when the ledger fails.
  absl::StatusOr<events::v1::DeliveryOutcome> Record(const std::string& alert_id, uint32_t attempt,
                                                     const events::v1::DeliveryOutcome& outcome);
  std::optional<events::v1::DeliveryOutcome> Unrecorded(const std::string& alert_id,
                                                        uint32_t attempt) const;
  absl::Status PublishOutcome(const events::v1::AlertRequested& request,
                              const events::v1::DeliveryOutcome& outcome);

  const DispatcherOptions options_;
  AttemptLedger& ledger_;
  Sender& sender_;
  messaging::Publisher& publisher_;
  DispatchObserver& observer_;
  const std::function<absl::Time()> now_;
  mutable std::mutex mutex_;
  // Outcomes of sends this worker made that the ledger has not taken yet.
  std::map<std::pair<std::string, uint32_t>, events::v1::DeliveryOutcome> unrecorded_;
};

// The outcome event that records a send result (for kAccepted and kRejected).
events::v1::DeliveryOutcome OutcomeOf(const SendResult& result);

}  // namespace klaxon::delivery
