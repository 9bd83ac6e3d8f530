#include "services/audit/ingest/event_decoder.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "common/prototime/prototime.h"
#include "common/twilio/error_codes.h"
#include "common/twilio/price.h"
#include "common/twilio/statuses.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit {
namespace {

using klaxon::events::v1::CallStatusUpdate;
using klaxon::events::v1::DeliveryOutcome;
using klaxon::events::v1::EventHeader;
using klaxon::events::v1::KeywordMessage;
using klaxon::events::v1::MessageStatusUpdate;
using klaxon::events::v1::TwilioEvent;

absl::Status Invalid(std::string_view type, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(type), ": ", std::string(problem)));
}

// Postgres keeps microseconds; truncating here keeps a record equal to its stored form.
absl::Time StoredTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(absl::ToUnixMicros(prototime::FromProto(timestamp)));
}

// Fills alert_id, attempt and occurred_at, which every event about an alert carries.
absl::Status DecodeAlertReference(std::string_view type, const EventHeader& header,
                                  AlertEvent& event) {
  if (!ids::IsUuid(header.alert_id())) {
    return Invalid(type, "header.alert_id is not a canonical UUID");
  }
  if (header.attempt() < 1) return Invalid(type, "header.attempt must be at least 1");
  if (!header.has_occurred_at()) return Invalid(type, "header.occurred_at is missing");
  event.alert_id = header.alert_id();
  event.attempt = header.attempt();
  event.occurred_at = StoredTime(header.occurred_at());
  return absl::OkStatus();
}

// Fills the fields every event of Klaxon's own services carries from its header.
absl::Status DecodeHeader(std::string_view type, bool has_header, const EventHeader& header,
                          AlertEvent& event) {
  if (!has_header) return Invalid(type, "header is missing");
  if (absl::Status reference = DecodeAlertReference(type, header, event); !reference.ok()) {
    return reference;
  }
  if (header.caller().empty()) return Invalid(type, "header.caller is empty");
  if (header.channel() != klaxon::types::v1::CHANNEL_SMS &&
      header.channel() != klaxon::types::v1::CHANNEL_VOICE) {
    return Invalid(type, "header.channel must be SMS or VOICE");
  }
  event.caller = header.caller();
  event.channel = header.channel();
  return absl::OkStatus();
}

// A reference to an escalation chain's page (ADR 0029): none (an empty id), or a canonical UUID
// with a step from 1. A chain's id is compared with alert ids, so it must be spelled like one.
absl::Status CheckEscalationPage(std::string_view type, std::string_view id_field,
                                 std::string_view alert_id, uint32_t step) {
  if (alert_id.empty()) return absl::OkStatus();
  if (!ids::IsUuid(alert_id)) {
    return Invalid(type, absl::StrCat(std::string(id_field), " is not a canonical UUID"));
  }
  if (step < 1) {
    return Invalid(type, absl::StrCat(std::string(id_field), "'s step must be at least 1"));
  }
  return absl::OkStatus();
}

// What a status callback says about its attempt.
struct CallbackOutcome {
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  int32_t error_code = 0;
  std::string reason{};
};

// ", error 30003: the destination handset is unreachable", or "" without a code.
std::string ErrorSuffix(int32_t error_code) {
  if (error_code == 0) return "";
  std::string suffix = absl::StrCat(", error ", error_code);
  if (const std::string_view meaning = twilio::ErrorCodeMeaning(error_code); !meaning.empty()) {
    absl::StrAppend(&suffix, ": ", std::string(meaning));
  }
  return suffix;
}

// "verification <id> checked: approved", "... wrong code, 3 checks left", "... expired", ...
std::string VerificationCheckReason(const klaxon::events::v1::VerificationChecked& checked) {
  const std::string prefix = absl::StrCat("verification ", checked.verification_id(), " checked: ");
  switch (checked.result()) {
    case klaxon::verify::v1::VERIFICATION_STATUS_APPROVED:
      return absl::StrCat(prefix, "approved");
    case klaxon::verify::v1::VERIFICATION_STATUS_PENDING:
      return absl::StrCat(prefix, "wrong code, ", checked.checks_left(), " checks left");
    case klaxon::verify::v1::VERIFICATION_STATUS_EXPIRED:
      return absl::StrCat(prefix, "the code had expired");
    case klaxon::verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS:
      return absl::StrCat(prefix, "no checks left");
    default:
      return absl::StrCat(prefix, "result ", checked.result());
  }
}

// Twilio's message statuses. Every status before delivery means Twilio has the message, which is
// what SENT says; SENT never lowers a status (its rank is below every final) and never ends one.
// nullopt for a status word Klaxon does not map.
std::optional<CallbackOutcome> MessageOutcome(const MessageStatusUpdate& update) {
  const std::optional<twilio::MessageStatus> status =
      twilio::ParseMessageStatus(update.message_status());
  if (!status.has_value()) return std::nullopt;  // a word Twilio added since
  const auto failed = [&](klaxon::types::v1::AlertStatus alert_status) {
    return CallbackOutcome{
        .status = alert_status,
        .error_code = update.error_code(),
        .reason = absl::StrCat("Twilio reported ", std::string(twilio::ToString(*status)),
                               ErrorSuffix(update.error_code()))};
  };
  switch (*status) {
    case twilio::MessageStatus::kAccepted:
    case twilio::MessageStatus::kScheduled:
    case twilio::MessageStatus::kQueued:
    case twilio::MessageStatus::kSending:
    case twilio::MessageStatus::kSent:
      return CallbackOutcome{.status = klaxon::types::v1::ALERT_STATUS_SENT};
    case twilio::MessageStatus::kDelivered:
    case twilio::MessageStatus::kRead:
      return CallbackOutcome{.status = klaxon::types::v1::ALERT_STATUS_DELIVERED};
    case twilio::MessageStatus::kUndelivered:
      return failed(klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
    // Canceled: only a scheduled message can be, and Klaxon schedules none; still final.
    case twilio::MessageStatus::kFailed:
    case twilio::MessageStatus::kCanceled:
      return failed(klaxon::types::v1::ALERT_STATUS_FAILED);
    case twilio::MessageStatus::kReceiving:  // inbound
    case twilio::MessageStatus::kReceived:
    case twilio::MessageStatus::kPartiallyDelivered:
      return std::nullopt;
  }
  return std::nullopt;
}

// Twilio's call statuses, read simply until the delivery-engine issue gives voice its own
// escalation: an answered call (completed) delivered the alert; busy, no-answer and canceled
// reached nobody; failed could not be placed.
std::optional<CallbackOutcome> CallOutcome(const CallStatusUpdate& update) {
  const std::optional<twilio::CallStatus> status = twilio::ParseCallStatus(update.call_status());
  if (!status.has_value()) return std::nullopt;  // a word Twilio added since
  const auto failed = [&](klaxon::types::v1::AlertStatus alert_status) {
    return CallbackOutcome{
        .status = alert_status,
        .error_code = update.error_code(),
        .reason = absl::StrCat("Twilio reported the call ", std::string(twilio::ToString(*status)),
                               ErrorSuffix(update.error_code()))};
  };
  switch (*status) {
    case twilio::CallStatus::kQueued:
    case twilio::CallStatus::kInitiated:
    case twilio::CallStatus::kRinging:
    case twilio::CallStatus::kInProgress:
      return CallbackOutcome{.status = klaxon::types::v1::ALERT_STATUS_SENT};
    case twilio::CallStatus::kCompleted: {
      // A reason is what went wrong (clients show it as the error), so a delivered call has
      // none. A machine answering reached nobody; the voice worker calls again (ADR 0007).
      const std::optional<twilio::AnsweredBy> answered_by =
          twilio::ParseAnsweredBy(update.answered_by());
      if (answered_by.has_value() && twilio::IsMachine(*answered_by)) {
        return CallbackOutcome{.status = klaxon::types::v1::ALERT_STATUS_UNDELIVERED,
                               .reason = absl::StrCat("the call was answered by a machine (",
                                                      update.answered_by(), ")")};
      }
      return CallbackOutcome{.status = klaxon::types::v1::ALERT_STATUS_DELIVERED};
    }
    case twilio::CallStatus::kBusy:
    case twilio::CallStatus::kNoAnswer:
    case twilio::CallStatus::kCanceled:
      return failed(klaxon::types::v1::ALERT_STATUS_UNDELIVERED);
    case twilio::CallStatus::kFailed:
      return failed(klaxon::types::v1::ALERT_STATUS_FAILED);
  }
  return std::nullopt;
}

std::string FormatTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", prototime::FromProto(timestamp),
                          absl::UTCTimeZone());
}

// "<reason>; <then>", or <then> alone when the worker gave no reason.
std::string Joined(const std::string& reason, std::string then) {
  return reason.empty() ? then : absl::StrCat(reason, "; ", then);
}

// A worker's decision as the attempt's and the alert's status (ADR 0007, "Audit's projection").
// Returns an error naming the problem for an unspecified or unknown kind.
absl::Status MapOutcome(const DeliveryOutcome& outcome, AlertEvent& event) {
  using klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
  using klaxon::types::v1::ALERT_STATUS_CANCELLED;
  using klaxon::types::v1::ALERT_STATUS_FAILED;
  using klaxon::types::v1::ALERT_STATUS_SENT;
  using klaxon::types::v1::ALERT_STATUS_SUPPRESSED;
  using klaxon::types::v1::ALERT_STATUS_UNDELIVERED;
  using klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  using klaxon::types::v1::ALERT_STATUS_WAITING;
  switch (outcome.kind()) {
    case DeliveryOutcome::KIND_ACCEPTED:
      event.status = ALERT_STATUS_SENT;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_REJECTED:
    case DeliveryOutcome::KIND_GAVE_UP:
    case DeliveryOutcome::KIND_DEAD_LETTERED:
    case DeliveryOutcome::KIND_UNROUTED:
      event.status = ALERT_STATUS_FAILED;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_RETRY_SCHEDULED:
      // Twilio took the attempt and it then failed (a call nobody answered): UNDELIVERED; it
      // never took it (5xx, a request that never left): FAILED. Either way the alert itself waits
      // for the retry. (A 429 is no failed attempt: it is deferred, ADR 0043.)
      event.status = outcome.twilio_sid().empty() ? ALERT_STATUS_FAILED : ALERT_STATUS_UNDELIVERED;
      event.alert_status = ALERT_STATUS_WAITING;
      event.alert_reason =
          Joined(outcome.reason(), absl::StrCat("retrying at ", FormatTime(outcome.retry_at())));
      return absl::OkStatus();
    case DeliveryOutcome::KIND_DEFERRED:
      event.status = ALERT_STATUS_WAITING;
      event.reason =
          Joined(outcome.reason(), absl::StrCat("next try at ", FormatTime(outcome.retry_at())));
      return absl::OkStatus();
    case DeliveryOutcome::KIND_SCHEDULED:
      event.status = ALERT_STATUS_WAITING;
      event.reason = Joined(outcome.reason(),
                            absl::StrCat("not sent before ", FormatTime(outcome.retry_at())));
      return absl::OkStatus();
    case DeliveryOutcome::KIND_SUPPRESSED:
      event.status = ALERT_STATUS_SUPPRESSED;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_CANCELLED:
      event.status = ALERT_STATUS_CANCELLED;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_ACKNOWLEDGED:
      event.status = ALERT_STATUS_ACKNOWLEDGED;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_UNREACHED:
      event.status = ALERT_STATUS_UNDELIVERED;
      return absl::OkStatus();
    case DeliveryOutcome::KIND_FALLBACK_TO_SMS:
      // The alert stays where it is until the SMS attempt reports; the attempt this names only
      // learns why (WAITING never lowers a call that already ended).
      event.status = ALERT_STATUS_WAITING;
      event.alert_status = ALERT_STATUS_UNSPECIFIED;
      event.reason = Joined(outcome.reason(), "no call was answered; the text follows by SMS");
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(outcome.kind() == DeliveryOutcome::KIND_UNSPECIFIED
                                            ? "outcome.kind is unspecified"
                                            : "outcome.kind is unknown");
  }
}

// `reading` (an opt-out's or opt-in's, its kind set) with the recipient's consent change.
absl::StatusOr<TwilioEventReading> WithConsent(TwilioEventReading reading,
                                               const KeywordMessage& keyword, bool opted_out,
                                               const log::PhoneRedactor& redactor,
                                               transit::TransitCipher& transit) {
  constexpr std::string_view kType = "TwilioEvent";
  absl::StatusOr<std::string> from = transit.OpenKeyword(keyword);
  if (!from.ok()) return from.status();
  if (!phone::CountryCallingCode(*from).has_value()) {
    return Invalid(kType, absl::StrCat(std::string(reading.kind), ".from is not an E.164 number"));
  }
  reading.from = *std::move(from);
  const nlohmann::json redacted = redactor.Redact(reading.from);
  reading.consent = ConsentChange{.recipient_token = redacted.at("token").get<std::string>(),
                                  .country_code = redacted.at("cc").get<std::string>(),
                                  .last4 = redacted.at("last4").get<std::string>(),
                                  .opted_out = opted_out,
                                  .keyword = keyword.keyword(),
                                  .changed_at = reading.occurred_at};
  return reading;
}

// "retry_scheduled" for KIND_RETRY_SCHEDULED.
std::string OutcomeKindName(DeliveryOutcome::Kind kind) {
  std::string name = absl::AsciiStrToLower(DeliveryOutcome::Kind_Name(kind));
  return name.starts_with("kind_") ? name.substr(5) : name;
}

// The reading's event key (see TwilioEventReading::event_key).
std::string TwilioEventKey(const TwilioEvent& message, const TwilioEventReading& reading) {
  if (!message.dedupe_key().empty()) return absl::StrCat("twilio:", message.dedupe_key());
  return absl::StrCat("twilio:", std::string(reading.kind), ":", reading.sid, ":",
                      reading.twilio_status, ":", absl::ToUnixMicros(reading.occurred_at));
}

// A worker's read of what Twilio charged for an attempt (ADR 0036): it moves no status, and
// records the charge on its attempt. Its header is the status check's, naming caller and channel.
absl::StatusOr<TwilioEventReading> DecodeCharge(const TwilioEvent& message,
                                                TwilioEventReading reading) {
  constexpr std::string_view kType = "TwilioEvent";
  const klaxon::events::v1::AttemptCharge& charge = message.charge();
  reading.kind = "charge";
  reading.sid = charge.sid();
  reading.event_key = TwilioEventKey(message, reading);
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome};
  if (absl::Status header = DecodeHeader(kType, message.has_header(), message.header(), event);
      !header.ok()) {
    return header;
  }
  if (charge.sid().empty()) return Invalid(kType, "charge.sid is empty");
  if (charge.currency().empty()) return Invalid(kType, "charge.currency is empty");
  reading.alert_id = event.alert_id;
  reading.attempt = event.attempt;
  event.twilio_sid = charge.sid();
  event.charge = ChargeRecord{.micros = charge.amount_micros(),
                              .currency = charge.currency(),
                              .segments = charge.segments(),
                              .duration_seconds = charge.duration_seconds(),
                              .twilio_account = charge.account()};
  event.reason = absl::StrCat("Twilio charged ", twilio::FormatMicros(charge.amount_micros()), " ",
                              charge.currency());
  if (charge.segments() > 0) {
    absl::StrAppend(&event.reason, " for ", charge.segments(),
                    charge.segments() == 1 ? " segment" : " segments");
  } else if (event.channel == klaxon::types::v1::CHANNEL_VOICE) {
    absl::StrAppend(&event.reason, " for ", charge.duration_seconds(), " s of call");
  }
  if (!charge.account().empty()) absl::StrAppend(&event.reason, " on account ", charge.account());
  event.event_key = reading.event_key;
  event.log_kind = "charge";
  reading.outcome = std::move(event);
  return reading;
}

}  // namespace

absl::StatusOr<DecodedRequest> DecodeAlertRequested(std::string_view value,
                                                    transit::TransitCipher& transit) {
  constexpr std::string_view kType = "AlertRequested";
  klaxon::events::v1::AlertRequested message;
  if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Invalid(kType, "value is not a serialized klaxon.events.v1.AlertRequested");
  }
  AlertEvent event{.kind = AlertEvent::Kind::kRequested,
                   .status = klaxon::types::v1::ALERT_STATUS_QUEUED};
  if (absl::Status header = DecodeHeader(kType, message.has_header(), message.header(), event);
      !header.ok()) {
    return header;
  }
  absl::StatusOr<transit::AlertPersonalData> personal = transit.OpenAlert(message);
  if (!personal.ok()) return personal.status();
  const std::string& recipient = personal->recipient;
  std::optional<std::string> country_code = phone::CountryCallingCode(recipient);
  if (!country_code.has_value() || recipient.size() < 5) {
    return Invalid(kType, "recipient is not an E.164 number");
  }
  event.recipient_country_code = *std::move(country_code);
  event.recipient_last4 = recipient.substr(recipient.size() - 4);
  event.callback_url = message.callback_url();
  if (absl::Status page = CheckEscalationPage(kType, "escalation_id", message.escalation_id(),
                                              message.escalation_step());
      !page.ok()) {
    return page;
  }
  event.escalation_id = message.escalation_id();
  event.escalation_step = message.escalation_step();
  // Only shown by GetAlert, so taken as ingress wrote them from RenderTemplate's answer.
  event.template_name = message.template_name();
  event.template_locale = message.template_locale();
  event.template_version = message.template_version();
  event.event_key = absl::StrCat("requested:", event.alert_id, ":", event.attempt);
  event.log_kind = "requested";
  return DecodedRequest{.event = std::move(event),
                        .recipient = std::move(personal->recipient),
                        .text = std::move(personal->text)};
}

absl::StatusOr<AlertEvent> DecodeDeliveryEvent(std::string_view value) {
  constexpr std::string_view kType = "DeliveryEvent";
  klaxon::events::v1::DeliveryEvent message;
  if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Invalid(kType, "value is not a serialized klaxon.events.v1.DeliveryEvent");
  }
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome};
  if (absl::Status header = DecodeHeader(kType, message.has_header(), message.header(), event);
      !header.ok()) {
    return header;
  }
  if (message.has_cancel_requested()) {
    // About the alert, not an attempt; it ends nothing (the worker's CANCELLED does), but an
    // alert still waiting says why nothing more will happen.
    event.alert_status = klaxon::types::v1::ALERT_STATUS_WAITING;
    event.alert_reason = "the caller cancelled the alert; pending sends stop";
    event.event_key = absl::StrCat("cancel:", event.alert_id);
    event.log_kind = "cancel_requested";
    return event;
  }
  if (message.has_acknowledged()) {
    const klaxon::events::v1::AlertAcknowledged& acknowledged = message.acknowledged();
    if (absl::Status page = CheckEscalationPage(kType, "acknowledged.by_alert_id",
                                                acknowledged.by_alert_id(), acknowledged.by_step());
        !page.ok()) {
      return page;
    }
    // About the alert: its attempts keep the statuses their sends earned.
    event.alert_status = klaxon::types::v1::ALERT_STATUS_ACKNOWLEDGED;
    event.alert_reason = acknowledged.reason();
    event.acknowledged_by = acknowledged.by_alert_id();
    event.acknowledged_step = acknowledged.by_step();
    // AcknowledgeAlert records every call, a retry's too: each is a line of the trail. A chain's
    // record adds its page: the chain's id is its first page's, so that page's own record and the
    // chain's are about one alert and may carry one instant, yet both are lines of the trail.
    event.event_key =
        absl::StrCat("acknowledged:", event.alert_id, ":", absl::ToUnixMicros(event.occurred_at));
    if (!event.acknowledged_by.empty()) {
      absl::StrAppend(&event.event_key, ":by:", event.acknowledged_by);
    }
    event.log_kind = "acknowledged";
    return event;
  }
  if (message.has_verification_checked()) {
    // A check of the phone verification this alert carried the code of: only the trail hears
    // of it; the alert and its attempts stay as the delivery left them.
    const klaxon::events::v1::VerificationChecked& checked = message.verification_checked();
    event.reason = VerificationCheckReason(checked);
    // Two replicas may check within one microsecond: the key tells their checks apart.
    event.event_key =
        absl::StrCat("verification_checked:", event.alert_id, ":", checked.verification_id(), ":",
                     checked.checks_left(), ":", static_cast<int>(checked.result()), ":",
                     absl::ToUnixMicros(event.occurred_at));
    event.log_kind = "verification_checked";
    return event;
  }
  if (message.has_verification_cancelled()) {
    // The caller ended the verification; its code's alert has usually been delivered by then.
    const std::string& verification_id = message.verification_cancelled().verification_id();
    event.reason = absl::StrCat("verification ", verification_id, " cancelled by its caller");
    event.event_key = absl::StrCat("verification_cancelled:", event.alert_id, ":", verification_id);
    event.log_kind = "verification_cancelled";
    return event;
  }
  if (!message.has_outcome()) return Invalid(kType, "outcome is missing");
  const DeliveryOutcome& outcome = message.outcome();
  event.twilio_sid = outcome.twilio_sid();
  event.twilio_error_code = outcome.twilio_error_code();
  event.reason = outcome.reason();
  if (absl::Status mapped = MapOutcome(outcome, event); !mapped.ok()) {
    return Invalid(kType, std::string(mapped.message()));
  }
  event.log_kind = OutcomeKindName(outcome.kind());
  event.event_key = absl::StrCat("outcome:", event.alert_id, ":", event.attempt, ":",
                                 event.log_kind, ":", absl::ToUnixMicros(event.occurred_at));
  event.counts_retry = outcome.kind() == DeliveryOutcome::KIND_RETRY_SCHEDULED ||
                       outcome.kind() == DeliveryOutcome::KIND_DEFERRED;
  return event;
}

absl::StatusOr<TwilioEventReading> DecodeTwilioEvent(std::string_view value,
                                                     const log::PhoneRedactor& redactor,
                                                     transit::TransitCipher& transit) {
  constexpr std::string_view kType = "TwilioEvent";
  TwilioEvent message;
  if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Invalid(kType, "value is not a serialized klaxon.events.v1.TwilioEvent");
  }
  if (message.body_case() == TwilioEvent::BODY_NOT_SET) return Invalid(kType, "body is missing");
  if (!message.header().has_occurred_at()) return Invalid(kType, "header.occurred_at is missing");
  TwilioEventReading reading{.occurred_at = StoredTime(message.header().occurred_at())};
  std::optional<CallbackOutcome> outcome;
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  switch (message.body_case()) {
    case TwilioEvent::kMessageStatus:
      reading.kind = "message_status";
      reading.sid = message.message_status().message_sid();
      reading.twilio_status = message.message_status().message_status();
      outcome = MessageOutcome(message.message_status());
      channel = klaxon::types::v1::CHANNEL_SMS;
      break;
    case TwilioEvent::kCallStatus:
      reading.kind = "call_status";
      reading.sid = message.call_status().call_sid();
      reading.twilio_status = message.call_status().call_status();
      outcome = CallOutcome(message.call_status());
      channel = klaxon::types::v1::CHANNEL_VOICE;
      break;
    case TwilioEvent::kInboundMessage:
      reading.kind = "inbound_message";
      reading.sid = message.inbound_message().message_sid();
      reading.ignored = "not_a_status_callback";
      reading.event_key = TwilioEventKey(message, reading);
      if (absl::StatusOr<transit::SenderPersonalData> sender =
              transit.OpenInbound(message.inbound_message());
          sender.ok()) {
        reading.from = std::move(sender->from);
        reading.body = std::move(sender->body);
      } else {
        return sender.status();
      }
      return reading;
    case TwilioEvent::kOptOut:
      reading.kind = "opt_out";
      reading.sid = message.opt_out().message_sid();
      reading.event_key = TwilioEventKey(message, reading);
      return WithConsent(std::move(reading), message.opt_out(), /*opted_out=*/true, redactor,
                         transit);
    case TwilioEvent::kOptIn:
      reading.kind = "opt_in";
      reading.sid = message.opt_in().message_sid();
      reading.event_key = TwilioEventKey(message, reading);
      return WithConsent(std::move(reading), message.opt_in(), /*opted_out=*/false, redactor,
                         transit);
    case TwilioEvent::kKeyPress:
      reading.kind = "key_press";
      reading.sid = message.key_press().call_sid();
      reading.ignored = "not_a_status_callback";
      if (ids::IsUuid(message.header().alert_id())) {
        reading.alert_id = message.header().alert_id();
        reading.attempt = message.header().attempt();
      }
      reading.event_key = TwilioEventKey(message, reading);
      return reading;
    case TwilioEvent::kCharge:
      return DecodeCharge(message, std::move(reading));
    case TwilioEvent::BODY_NOT_SET:
      break;  // refused above
  }
  reading.event_key = TwilioEventKey(message, reading);
  // A callback URL configured in the Twilio console names no alert: nothing to attribute it to.
  if (message.header().alert_id().empty()) {
    reading.ignored = "no_alert_id";
    return reading;
  }
  AlertEvent event{.kind = AlertEvent::Kind::kOutcome,
                   // Usually empty: ingress knows the alert only by the id in the callback
                   // URL. The AlertRequested fills it in (see ApplyEvent).
                   .caller = message.header().caller(),
                   .channel = channel};
  if (absl::Status reference = DecodeAlertReference(kType, message.header(), event);
      !reference.ok()) {
    return reference;
  }
  reading.alert_id = event.alert_id;
  reading.attempt = event.attempt;
  if (!outcome.has_value()) {
    reading.ignored = "unknown_status";
    return reading;
  }
  event.status = outcome->status;
  // A call's callback moves only its attempt: the voice worker decides the alert's fate
  // (UNREACHED, ACKNOWLEDGED, FALLBACK_TO_SMS), except that a person answering delivered it.
  if (channel == klaxon::types::v1::CHANNEL_VOICE &&
      outcome->status != klaxon::types::v1::ALERT_STATUS_DELIVERED) {
    event.alert_status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  }
  event.twilio_sid = reading.sid;
  event.twilio_error_code = outcome->error_code;
  event.reason = std::move(outcome->reason);
  event.event_key = reading.event_key;
  event.log_kind = std::string(reading.kind);
  reading.outcome = std::move(event);
  return reading;
}

}  // namespace klaxon::audit
