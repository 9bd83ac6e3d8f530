#pragma once
// Audit's Kafka message handler: decodes each message by its topic (AlertRequested on the request
// topics, DeliveryEvent on the delivery topic) and folds it into the store together with the
// offset, so the store always knows how far it has consumed.
//
// Result contract (see messaging::MessageHandler):
//   OK                  applied (or a duplicate, which changes nothing)
//   kInvalidArgument    undecodable message; its offset is recorded in the store, then the
//                       consumer skips it
//   kUnavailable        the store failed; the consumer retries the same message. Audit is the
//                       system of record, so a store error is never a reason to drop an event:
//                       errors other than bad input are reported as retryable, and a persistent
//                       one shows up as consumer lag rather than as a silent gap.

#include <cstdint>

#include "common/messaging/message.h"
#include "services/audit/alert_store.h"
#include "services/audit/audit_metrics.h"
#include "common/timing/clock.h"
#include "services/audit/topics.h"

namespace klaxon::audit {

class AuditConsumer final : public messaging::MessageHandler {
 public:
  // All borrowed; they must outlive the consumer.
  AuditConsumer(AlertStore& store, const Topics& topics, AuditMetrics& metrics, timing::Clock& clock);

  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  absl::Status Retryable(const messaging::InboundMessage& message, const absl::Status& status);

  AlertStore& store_;
  const Topics& topics_;
  AuditMetrics& metrics_;
  timing::Clock& clock_;
};

}  // namespace klaxon::audit
