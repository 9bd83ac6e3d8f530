#include "services/audit/ingest/projection.h"

#include <algorithm>
#include <string>
#include <tuple>

namespace klaxon::audit {

namespace {

// A status with what came with it, as the rank rules compare them.
struct StatusPoint {
  AlertStatus status;
  absl::Time at;
  const std::string& reason;
};

// Whether `next` replaces `current`: a higher rank always; an equal rank 1 when newer, with a
// total order on ties so that any order of arrival ends in the same record.
bool Replaces(const StatusPoint& next, const StatusPoint& current) {
  const int16_t next_rank = Rank(next.status);
  const int16_t current_rank = Rank(current.status);
  if (next_rank != current_rank || next_rank != 1) return next_rank > current_rank;
  return std::tie(next.at, next.status, next.reason) >
         std::tie(current.at, current.status, current.reason);
}

// The event's attempt in `attempts` (ordered by number), or where it would be inserted.
std::vector<AttemptRecord>::iterator FindAttempt(std::vector<AttemptRecord>& attempts,
                                                 uint32_t number) {
  return std::lower_bound(
      attempts.begin(), attempts.end(), number,
      [](const AttemptRecord& attempt, uint32_t wanted) { return attempt.number < wanted; });
}

// Records what Twilio charged on the event's attempt, creating it as SENT (only an attempt Twilio
// accepted is charged) when no other event has yet; returns whether anything changed.
bool ApplyCharge(std::vector<AttemptRecord>& attempts, const AlertEvent& event) {
  auto at = FindAttempt(attempts, event.attempt);
  if (at == attempts.end() || at->number != event.attempt) {
    at = attempts.insert(at, {.number = event.attempt,
                              .channel = event.channel,
                              .status = klaxon::types::v1::ALERT_STATUS_SENT,
                              .twilio_sid = event.twilio_sid,
                              .occurred_at = event.occurred_at});
  } else if (at->charge.has_value()) {
    return false;
  }
  at->charge = event.charge;
  if (at->twilio_sid.empty()) at->twilio_sid = event.twilio_sid;
  return true;
}

// Moves `attempts` forward with the event; returns whether anything changed.
bool ApplyToAttempts(std::vector<AttemptRecord>& attempts, const AlertEvent& event) {
  if (event.charge.has_value()) return ApplyCharge(attempts, event);
  if (event.status == klaxon::types::v1::ALERT_STATUS_UNSPECIFIED) return false;
  auto at = FindAttempt(attempts, event.attempt);
  AttemptRecord next{.number = event.attempt,
                     .channel = event.channel,
                     .status = event.status,
                     .twilio_sid = event.twilio_sid,
                     .twilio_error_code = event.twilio_error_code,
                     .reason = event.reason,
                     .occurred_at = event.occurred_at};
  if (at == attempts.end() || at->number != event.attempt) {
    attempts.insert(at, std::move(next));
    return true;
  }
  if (!Replaces({next.status, next.occurred_at, next.reason},
                {at->status, at->occurred_at, at->reason})) {
    // An attempt has one SID; an event that outranks nothing still tells it when the winner
    // did not know it (a retry decided before Twilio's answer was recorded).
    if (!at->twilio_sid.empty() || next.twilio_sid.empty()) return false;
    at->twilio_sid = std::move(next.twilio_sid);
    return true;
  }
  if (next.twilio_sid.empty()) next.twilio_sid = at->twilio_sid;
  next.charge = std::move(at->charge);
  // The attempt's channel is the one it was created with (an SMS fallback stays SMS).
  if (at->channel != klaxon::types::v1::CHANNEL_UNSPECIFIED) next.channel = at->channel;
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
    record.status_at = event.occurred_at;
  }
  bool changed = !current.has_value();

  if (event.kind == AlertEvent::Kind::kRequested && !record.requested) {
    record.requested = true;
    record.recipient_country_code = event.recipient_country_code;
    record.recipient_last4 = event.recipient_last4;
    record.callback_url = event.callback_url;
    record.escalation_id = event.escalation_id;
    record.escalation_step = event.escalation_step;
    record.template_name = event.template_name;
    record.template_locale = event.template_locale;
    record.template_version = event.template_version;
    // The request is the alert's birth, even when an outcome was consumed first, and the
    // authority on whose alert it is: a status callback consumed first knew neither the caller
    // nor, for an SMS sent on behalf of a voice alert, the alert's channel.
    record.created_at = event.occurred_at;
    record.caller = event.caller;
    record.channel = event.channel;
    changed = true;
  }

  const AlertStatus alert_status = event.alert_status.value_or(event.status);
  const std::string& alert_reason = event.alert_reason.value_or(event.reason);
  if (alert_status != klaxon::types::v1::ALERT_STATUS_UNSPECIFIED &&
      Replaces({alert_status, event.occurred_at, alert_reason},
               {record.status, record.status_at, record.reason})) {
    record.status = alert_status;
    if (!event.twilio_sid.empty()) record.twilio_sid = event.twilio_sid;
    record.twilio_error_code = event.twilio_error_code;
    record.reason = alert_reason;
    record.status_at = event.occurred_at;
    changed = true;
  }

  // A chain has one acknowledger: the page first named. A redelivered record, or one a later
  // acknowledgement of another page made (each makes the chain's record again), changes nothing.
  if (!event.acknowledged_by.empty() && record.acknowledged_by.empty()) {
    record.acknowledged_by = event.acknowledged_by;
    record.acknowledged_step = event.acknowledged_step;
    record.acknowledged_at = event.occurred_at;
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
