#pragma once
// Turns Kafka values into AlertEvents (and opt-outs/opt-ins into ConsentChanges), validating what
// the projection relies on, and names each event's key in the event log (ADR 0008). A recipient's
// number is reduced here to its country calling code and last four digits (and, for consent, its
// keyed token); the personal fields audit keeps (an alert's recipient and text, an inbound
// message's sender and body, a keyword's sender) are handed over apart, in fields the event handler
// seals or indexes at once and never logs. Everything else personal a webhook carries is dropped.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/log/log.h"
#include "common/transit/transit_cipher.h"
#include "services/audit/alert.h"
#include "services/audit/consent.h"

namespace klaxon::audit {

// An AlertRequested: its event (key "requested:<alert_id>:<attempt>") and its personal fields.
struct DecodedRequest {
  AlertEvent event;
  std::string recipient;  // E.164, personal data
  std::string text;       // personal data
};

// A serialized klaxon.events.v1.AlertRequested. kInvalidArgument, naming the field, when the
// bytes do not parse or the header (UUID alert_id, caller, SMS or voice channel, attempt >= 1,
// occurred_at) or the E.164 recipient is missing or malformed, or when an escalation_id is set
// that is not a canonical UUID or comes with a step of 0 (ADR 0029). The template the text came
// from (ADR 0030) is taken as it is.
// The recipient and text are opened from their transit seal (ADR 0013) with `transit`; its error
// when they cannot be (kUnavailable while a key rotation rolls out: retry).
absl::StatusOr<DecodedRequest> DecodeAlertRequested(std::string_view value,
                                                    transit::TransitCipher& transit);

// A serialized klaxon.events.v1.DeliveryEvent (ADR 0007, "Audit's projection"), as the attempt's
// status and, where it differs, the alert's:
//   ACCEPTED -> SENT; REJECTED, GAVE_UP, DEAD_LETTERED -> FAILED; SUPPRESSED, CANCELLED,
//   ACKNOWLEDGED -> the same; UNREACHED -> UNDELIVERED;
//   RETRY_SCHEDULED -> attempt FAILED (UNDELIVERED when Twilio had taken it), alert WAITING
//                      with "<reason>; retrying at <retry_at>";
//   DEFERRED -> WAITING, "<the limit's reason>; next try at <retry_at>";
//   FALLBACK_TO_SMS -> the alert unchanged (the SMS attempt follows), the attempt told why;
//   cancel_requested -> no attempt; the alert WAITING with a reason saying sends stop (rank 1,
//                       so it ends nothing: the worker's CANCELLED does);
//   acknowledged -> no attempt; the alert ACKNOWLEDGED with the reason (rank 4, final); an
//                   escalation chain's record (ADR 0029) also names the page that stopped the
//                   chain and its step (acknowledged_by, acknowledged_step);
//   verification_checked -> nothing moves; the trail records the check's result (ADR 0022);
//   verification_cancelled -> nothing moves; the trail records that the caller ended it.
// Event keys: "outcome:<alert_id>:<attempt>:<kind>:<occurred_at in µs>" (kind lower case without
// KIND_, also the log kind), "cancel:<alert_id>" (log kind "cancel_requested"),
// "acknowledged:<alert_id>:<occurred_at in µs>" (log kind "acknowledged"; a chain's record adds
// ":by:<by_alert_id>"),
// "verification_checked:<alert_id>:<verification_id>:<checks_left>:<result>:<occurred_at in µs>"
// (log kind "verification_checked"), "verification_cancelled:<alert_id>:<verification_id>" (log
// kind "verification_cancelled").
// kInvalidArgument like DecodeAlertRequested, and for a missing body, an unspecified or
// unknown outcome kind, or an acknowledged.by_alert_id that is not a canonical UUID or comes with
// a by_step of 0.
absl::StatusOr<AlertEvent> DecodeDeliveryEvent(std::string_view value);

// What audit makes of one klaxon.events.v1.TwilioEvent.
struct TwilioEventReading {
  // The body's kind, a metric label: "message_status", "call_status", "inbound_message",
  // "opt_out", "opt_in", "key_press" or "charge" (what Twilio charged, read back by a worker:
  // `outcome` then records it on its attempt and moves no status).
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
  //   call:    queued, initiated, ringing, in-progress -> SENT; completed -> DELIVERED (a
  //            person answered) or UNDELIVERED (AnsweredBy machine, machine_* or fax); busy, no-answer,
  //            canceled -> UNDELIVERED; failed -> FAILED, with a reason naming the call status.
  //            A call's status moves only its attempt (alert_status UNSPECIFIED), except
  //            DELIVERED: the voice worker decides a voice alert's fate (ADR 0007).
  // nullopt when the event moves no alert; `ignored` then says why.
  std::optional<AlertEvent> outcome{};
  // An opt-out or opt-in: the recipient's new consent, from `from` (as token, country code and
  // last four), opted_out, the keyword, and header.occurred_at (when ingress received it,
  // truncated to microseconds). nullopt for every other kind.
  std::optional<ConsentChange> consent{};
  // "no_alert_id": a status callback whose URL named no alert (one configured in the Twilio
  // console); "not_a_status_callback": an inbound message or key press, which later issues act
  // on; "unknown_status": a status word not mapped above (inbound ones, or one Twilio added).
  // Empty when `outcome` or `consent` is set.
  std::string_view ignored{};
  // The event log's key: "twilio:<dedupe_key>" (ingress's key, so a callback published twice is
  // stored once); "twilio:<kind>:<sid>:<status>:<occurred_at in µs>" when dedupe_key is empty.
  std::string event_key{};
  absl::Time occurred_at{};  // header.occurred_at, truncated to microseconds
  // The alert and attempt the header names; empty and 0 when it names none.
  std::string alert_id{};
  uint32_t attempt = 0;
  // Personal data, to be sealed or indexed at once and never logged: the sender of an inbound
  // message, an opt-out or an opt-in (E.164 as Twilio sent it), and an inbound message's body.
  std::string from{};
  std::string body{};
};

// A serialized klaxon.events.v1.TwilioEvent; `redactor` (keyed by KLAXON_PII_HMAC_KEY) turns an
// opt-out's or opt-in's number into its token. kInvalidArgument, naming the field, when the
// bytes do not parse, the body is missing, a status callback's header names an alert but is
// malformed (alert_id not a canonical UUID, attempt below 1), header.occurred_at is missing (every
// event is logged at its time), or an opt-out or opt-in has no E.164 `from`.
// An inbound message's or a consent change's sender (and body) are opened with `transit`.
absl::StatusOr<TwilioEventReading> DecodeTwilioEvent(std::string_view value,
                                                     const log::PhoneRedactor& redactor,
                                                     transit::TransitCipher& transit);

}  // namespace klaxon::audit
