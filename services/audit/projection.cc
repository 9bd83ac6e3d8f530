#include "services/audit/projection.h"

#include <algorithm>

namespace klaxon::audit {

int16_t StatusRank(AlertStatus status) {
  switch (status) {
    case klaxon::types::v1::ALERT_STATUS_QUEUED:
      return 1;
    case klaxon::types::v1::ALERT_STATUS_SENT:
      return 2;
    case klaxon::types::v1::ALERT_STATUS_DELIVERED:
    case klaxon::types::v1::ALERT_STATUS_UNDELIVERED:
    case klaxon::types::v1::ALERT_STATUS_FAILED:
      return 3;
    default:
      return 0;
  }
}

namespace {

// Moves `attempts` forward with the event; returns whether anything changed.
bool ApplyToAttempts(std::vector<AttemptRecord>& attempts, const AlertEvent& event) {
  auto at = std::lower_bound(
      attempts.begin(), attempts.end(), event.attempt,
      [](const AttemptRecord& attempt, uint32_t number) { return attempt.number < number; });
  AttemptRecord next{.number = event.attempt,
                     .status = event.status,
                     .twilio_sid = event.twilio_sid,
                     .twilio_error_code = event.twilio_error_code,
                     .reason = event.reason,
                     .occurred_at = event.occurred_at};
  if (at == attempts.end() || at->number != event.attempt) {
    attempts.insert(at, std::move(next));
    return true;
  }
  if (StatusRank(event.status) <= StatusRank(at->status)) return false;
  if (next.twilio_sid.empty()) next.twilio_sid = at->twilio_sid;
  *at = std::move(next);
  return true;
}

}  // namespace

AlertRecord ApplyEvent(const std::optional<AlertRecord>& current, const AlertEvent& event) {
  AlertRecord record;
  if (current.has_value()) {
    record = *current;
  } else {
    record.alert_id = event.alert_id;
    record.caller = event.caller;
    record.channel = event.channel;
    record.created_at = event.occurred_at;
    record.updated_at = event.occurred_at;
  }
  bool changed = !current.has_value();

  if (event.kind == AlertEvent::Kind::kRequested && !record.requested) {
    record.requested = true;
    record.recipient_country_code = event.recipient_country_code;
    record.recipient_last4 = event.recipient_last4;
    // The request is the alert's birth, even when an outcome was consumed first, and the
    // authority on whose alert it is: a status callback consumed first knew neither the caller
    // nor, for an SMS sent on behalf of a voice alert, the alert's channel.
    record.created_at = event.occurred_at;
    record.caller = event.caller;
    record.channel = event.channel;
    changed = true;
  }

  if (StatusRank(event.status) > StatusRank(record.status)) {
    record.status = event.status;
    if (!event.twilio_sid.empty()) record.twilio_sid = event.twilio_sid;
    record.twilio_error_code = event.twilio_error_code;
    record.reason = event.reason;
    changed = true;
  }

  changed = ApplyToAttempts(record.attempts, event) || changed;
  if (changed) record.updated_at = std::max(record.updated_at, event.occurred_at);
  return record;
}

std::optional<StatusAdvance> AdvancedStatus(const std::optional<AlertRecord>& current,
                                            const AlertRecord& next) {
  const AlertStatus before =
      current.has_value() ? current->status : klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  if (next.status == before) return std::nullopt;
  return StatusAdvance{.channel = next.channel, .status = next.status};
}

}  // namespace klaxon::audit
