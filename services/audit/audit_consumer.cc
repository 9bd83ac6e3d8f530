#include "services/audit/audit_consumer.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace klaxon::audit {

AuditConsumer::AuditConsumer(AlertStore& store, const Topics& topics, AuditMetrics& metrics,
                             timing::Clock& clock, const log::Logger& logger,
                             const log::PhoneRedactor& redactor)
    : store_(store),
      topics_(topics),
      metrics_(metrics),
      clock_(clock),
      logger_(logger),
      redactor_(redactor) {}

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
  } else if (message.topic == topics_.twilio_events) {
    return HandleTwilioEvent(message, progress);
  } else {
    // A subscription bug, not a bad message: nothing is recorded for a topic audit does not own.
    metrics_.EventConsumed(message.topic, "invalid");
    return absl::InvalidArgumentError(absl::StrCat("audit does not consume topic ", message.topic));
  }
  if (!event.ok()) return SkipInvalid(message, progress, event.status());
  return Project(message, progress, *event);
}

absl::Status AuditConsumer::HandleTwilioEvent(const messaging::InboundMessage& message,
                                              const ConsumedOffset& progress) {
  absl::StatusOr<TwilioEventReading> reading = DecodeTwilioEvent(message.value, redactor_);
  if (!reading.ok()) return SkipInvalid(message, progress, reading.status());
  if (reading->consent.has_value()) return RecordConsent(message, progress, *reading);
  if (reading->outcome.has_value()) {
    absl::Status projected = Project(message, progress, *reading->outcome);
    if (projected.ok()) metrics_.TwilioEvent(reading->kind, "applied");
    return projected;
  }
  // Recorded like any consumed message, so the store's progress stays a complete account.
  if (absl::Status recorded = store_.RecordProgress(progress); !recorded.ok()) {
    return Retryable(message, recorded);
  }
  metrics_.EventConsumed(message.topic, "ignored");
  metrics_.TwilioEvent(reading->kind, reading->ignored);
  // An unmapped status word may be one Twilio added: worth an operator's look. The SID and the
  // status word are not personal data; the numbers and bodies the event may carry stay out.
  logger_.Log(reading->ignored == "unknown_status" ? log::Level::kWarn : log::Level::kInfo,
              "twilio_event_ignored",
              {{"kind", std::string(reading->kind)},
               {"reason", std::string(reading->ignored)},
               {"sid", reading->sid},
               {"twilio_status", reading->twilio_status},
               {"topic", message.topic},
               {"partition", message.partition},
               {"offset", message.offset}});
  return absl::OkStatus();
}

absl::Status AuditConsumer::RecordConsent(const messaging::InboundMessage& message,
                                          const ConsumedOffset& progress,
                                          const TwilioEventReading& reading) {
  const ConsentChange& change = *reading.consent;
  absl::StatusOr<bool> changed = store_.RecordConsent(change, progress);
  if (!changed.ok()) return StoreFailed(message, progress, changed.status());
  metrics_.EventConsumed(message.topic, "applied");
  metrics_.TwilioEvent(reading.kind, *changed ? "recorded" : "stale");
  // Consent changes are rare and an operator may need to trace one: the token, country code and
  // last four identify the recipient without the number.
  logger_.Info("consent_recorded", {{"kind", std::string(reading.kind)},
                                    {"recipient_token", change.recipient_token},
                                    {"country_code", change.country_code},
                                    {"last4", change.last4},
                                    {"keyword", change.keyword},
                                    {"changed", *changed},
                                    {"sid", reading.sid}});
  return absl::OkStatus();
}

absl::Status AuditConsumer::Project(const messaging::InboundMessage& message,
                                    const ConsumedOffset& progress, const AlertEvent& event) {
  const absl::Time start = clock_.Now();
  absl::StatusOr<std::optional<StatusAdvance>> applied = store_.Apply(event, progress);
  metrics_.ProjectionWrite(clock_.Now() - start);
  if (!applied.ok()) return StoreFailed(message, progress, applied.status());
  if (applied->has_value()) metrics_.StatusAdvanced(**applied);
  metrics_.EventConsumed(message.topic, "applied");
  return absl::OkStatus();
}

absl::Status AuditConsumer::StoreFailed(const messaging::InboundMessage& message,
                                        const ConsumedOffset& progress,
                                        const absl::Status& status) {
  // The database rejected a value the decoder let through: the message can never apply.
  if (absl::IsInvalidArgument(status)) return SkipInvalid(message, progress, status);
  return Retryable(message, status);
}

absl::Status AuditConsumer::SkipInvalid(const messaging::InboundMessage& message,
                                        const ConsumedOffset& progress,
                                        const absl::Status& invalid) {
  if (absl::Status recorded = store_.RecordProgress(progress); !recorded.ok()) {
    return Retryable(message, recorded);
  }
  metrics_.EventConsumed(message.topic, "invalid");
  return invalid;
}

}  // namespace klaxon::audit
