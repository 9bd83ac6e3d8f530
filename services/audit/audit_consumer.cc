#include "services/audit/audit_consumer.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/audit/event_decoder.h"

namespace klaxon::audit {

AuditConsumer::AuditConsumer(AlertStore& store, const Topics& topics, AuditMetrics& metrics,
                             timing::Clock& clock)
    : store_(store), topics_(topics), metrics_(metrics), clock_(clock) {}

absl::Status AuditConsumer::Retryable(const messaging::InboundMessage& message,
                                      const absl::Status& status) {
  metrics_.EventConsumed(message.topic, "retry");
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
      absl::IsResourceExhausted(status)) {
    return status;
  }
  return absl::UnavailableError(
      absl::StrCat("the audit store failed, the message will be retried: ", status.message()));
}

absl::Status AuditConsumer::Handle(const messaging::InboundMessage& message) {
  const ConsumedOffset progress{
      .topic = message.topic, .partition = message.partition, .next_offset = message.offset + 1};
  absl::StatusOr<AlertEvent> event;
  if (message.topic == topics_.sms_requests || message.topic == topics_.voice_requests) {
    event = DecodeAlertRequested(message.value);
  } else if (message.topic == topics_.delivery_events) {
    event = DecodeDeliveryEvent(message.value);
  } else {
    // A subscription bug, not a bad message: nothing is recorded for a topic audit does not own.
    metrics_.EventConsumed(message.topic, "invalid");
    return absl::InvalidArgumentError(absl::StrCat("audit does not consume topic ", message.topic));
  }

  if (!event.ok()) {
    if (absl::Status recorded = store_.RecordProgress(progress); !recorded.ok()) {
      return Retryable(message, recorded);
    }
    metrics_.EventConsumed(message.topic, "invalid");
    return event.status();
  }

  const absl::Time start = clock_.Now();
  absl::StatusOr<std::optional<StatusAdvance>> applied = store_.Apply(*event, progress);
  metrics_.ProjectionWrite(clock_.Now() - start);
  if (!applied.ok()) {
    if (absl::IsInvalidArgument(applied.status())) {
      // The database rejected a value the decoder let through: the message can never apply.
      if (absl::Status recorded = store_.RecordProgress(progress); !recorded.ok()) {
        return Retryable(message, recorded);
      }
      metrics_.EventConsumed(message.topic, "invalid");
      return applied.status();
    }
    return Retryable(message, applied.status());
  }
  if (applied->has_value()) metrics_.StatusAdvanced(**applied);
  metrics_.EventConsumed(message.topic, "applied");
  return absl::OkStatus();
}

}  // namespace klaxon::audit
