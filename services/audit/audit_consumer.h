#pragma once
// Audit's Kafka message handler: decodes each message by its topic (AlertRequested on the request
// topics, DeliveryEvent on the delivery topic, TwilioEvent on the Twilio events topic) and folds
// it into the store together with the offset, so the store always knows how far it has consumed.
//
// Result contract (see messaging::MessageHandler):
//   OK                  applied (or a duplicate, which changes nothing); an opt-out or opt-in
//                       recorded as its recipient's consent (or older than the record: kept out
//                       of it); or a valid Twilio event that concerns no alert's status (a
//                       callback whose URL named no alert, an inbound message or key press, a
//                       status word audit does not map): its offset is recorded, it is counted
//                       and logged, never failed
//   kInvalidArgument    undecodable message; its offset is recorded in the store, then the
//                       consumer skips it
//   kUnavailable        the store failed; the consumer retries the same message. Audit is the
//                       system of record, so a store error is never a reason to drop an event:
//                       errors other than bad input are reported as retryable, and a persistent
//                       one shows up as consumer lag rather than as a silent gap.

#include <cstdint>

#include "common/log/log.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "services/audit/alert_store.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/event_decoder.h"
#include "services/audit/topics.h"

namespace klaxon::audit {

class AuditConsumer final : public messaging::MessageHandler {
 public:
  // All borrowed; they must outlive the consumer. `redactor` (KLAXON_PII_HMAC_KEY) turns an
  // opt-out's number into the token its consent is recorded under.
  AuditConsumer(AlertStore& store, const Topics& topics, AuditMetrics& metrics,
                timing::Clock& clock, const log::Logger& logger,
                const log::PhoneRedactor& redactor);

  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  absl::Status HandleTwilioEvent(const messaging::InboundMessage& message,
                                 const ConsumedOffset& progress);
  absl::Status RecordConsent(const messaging::InboundMessage& message,
                             const ConsumedOffset& progress, const TwilioEventReading& reading);
  // Folds `event` into the store; OK or the error for the consumer (see the contract above).
  absl::Status Project(const messaging::InboundMessage& message, const ConsumedOffset& progress,
                       const AlertEvent& event);
  // Records the progress past a message that does not decode, then returns `invalid`.
  absl::Status SkipInvalid(const messaging::InboundMessage& message, const ConsumedOffset& progress,
                           const absl::Status& invalid);
  // What the consumer makes of a failed store write: a value the database rejected can never
  // apply (skipped like an undecodable message); anything else is retried.
  absl::Status StoreFailed(const messaging::InboundMessage& message, const ConsumedOffset& progress,
                           const absl::Status& status);
  absl::Status Retryable(const messaging::InboundMessage& message, const absl::Status& status);

  AlertStore& store_;
  const Topics& topics_;
  AuditMetrics& metrics_;
  timing::Clock& clock_;
  const log::Logger& logger_;
  const log::PhoneRedactor& redactor_;
};

}  // namespace klaxon::audit
