#pragma once
// Turns Kafka values into AlertEvents, validating what the projection relies on. The recipient's
// number is reduced here to its country calling code and last four digits and goes no further;
// the message text is dropped, and so is everything personal a Twilio webhook carries.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/audit/alert.h"

namespace klaxon::audit {

// A serialized klaxon.events.v1.AlertRequested. kInvalidArgument, naming the field, when the
// bytes do not parse or the header (UUID alert_id, caller, SMS or voice channel, attempt >= 1,
// occurred_at) or the E.164 recipient is missing or malformed.
absl::StatusOr<AlertEvent> DecodeAlertRequested(std::string_view value);

// A serialized klaxon.events.v1.DeliveryEvent carrying an outcome: ACCEPTED becomes SENT,
// REJECTED and GAVE_UP become FAILED. kInvalidArgument like DecodeAlertRequested, and for a
// missing or unspecified outcome.
absl::StatusOr<AlertEvent> DecodeDeliveryEvent(std::string_view value);

// What audit makes of one klaxon.events.v1.TwilioEvent.
struct TwilioEventReading {
  // The body's kind, a metric label: "message_status", "call_status", "inbound_message",
  // "opt_out", "opt_in" or "key_press".
  std::string_view kind{};
  // The Twilio SID the event is about (SM..., CA...): not personal data, so it may be logged.
  std::string sid{};
  // A status callback's MessageStatus or CallStatus as Twilio sent it; empty for other kinds.
  std::string twilio_status{};
  // The outcome a status callback gives header.alert_id's attempt (kind kOutcome, channel SMS for
  // a message and VOICE for a call, caller as the header has it: usually empty).
  //   message: queued, accepted, scheduled, sending, sent -> SENT; delivered, read -> DELIVERED;
  //            undelivered -> UNDELIVERED and failed, canceled -> FAILED, with the ErrorCode and
  //            a reason naming status and code ("Twilio reported undelivered, error 30003: ...")
  //   call:    queued, initiated, ringing, in-progress -> SENT; completed -> DELIVERED (it was
  //            answered); busy, no-answer, canceled -> UNDELIVERED; failed -> FAILED, with a
  //            reason naming the call status
  // nullopt when the event moves no alert; `ignored` then says why.
  std::optional<AlertEvent> outcome{};
  // "no_alert_id": a status callback whose URL named no alert (one configured in the Twilio
  // console); "not_a_status_callback": an inbound message, opt-out, opt-in or key press, which
  // later issues act on; "unknown_status": a status word not mapped above (inbound ones, or one
  // Twilio added). Empty when `outcome` is set.
  std::string_view ignored{};
};

// A serialized klaxon.events.v1.TwilioEvent. kInvalidArgument, naming the field, when the bytes
// do not parse, the body is missing, or a status callback's header names an alert but is
// malformed (alert_id not a canonical UUID, attempt below 1, occurred_at missing).
absl::StatusOr<TwilioEventReading> DecodeTwilioEvent(std::string_view value);

}  // namespace klaxon::audit
