#include "services/audit/event_decoder.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit {
namespace {

using klaxon::events::v1::DeliveryOutcome;
using klaxon::events::v1::EventHeader;

absl::Status Invalid(std::string_view type, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(type), ": ", std::string(problem)));
}

// Fills the fields every event carries from its header.
absl::Status DecodeHeader(std::string_view type, bool has_header, const EventHeader& header,
                          AlertEvent& event) {
  if (!has_header) return Invalid(type, "header is missing");
  if (!ids::IsUuid(header.alert_id())) {
    return Invalid(type, "header.alert_id is not a canonical UUID");
  }
  if (header.caller().empty()) return Invalid(type, "header.caller is empty");
  if (header.channel() != klaxon::types::v1::CHANNEL_SMS &&
      header.channel() != klaxon::types::v1::CHANNEL_VOICE) {
    return Invalid(type, "header.channel must be SMS or VOICE");
  }
  if (header.attempt() < 1) return Invalid(type, "header.attempt must be at least 1");
  if (!header.has_occurred_at()) return Invalid(type, "header.occurred_at is missing");
  event.alert_id = header.alert_id();
  event.caller = header.caller();
  event.channel = header.channel();
  event.attempt = header.attempt();
  // Postgres keeps microseconds; truncating here keeps a record equal to its stored form.
  const absl::Time occurred_at = absl::FromUnixSeconds(header.occurred_at().seconds()) +
                                 absl::Nanoseconds(header.occurred_at().nanos());
  event.occurred_at = absl::FromUnixMicros(absl::ToUnixMicros(occurred_at));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AlertEvent> DecodeAlertRequested(std::string_view value) {
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
  const std::string& recipient = message.recipient();
  std::optional<std::string> country_code = phone::CountryCallingCode(recipient);
  if (!country_code.has_value() || recipient.size() < 5) {
    return Invalid(kType, "recipient is not an E.164 number");
  }
  event.recipient_country_code = *std::move(country_code);
  event.recipient_last4 = recipient.substr(recipient.size() - 4);
  return event;
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
  if (!message.has_outcome()) return Invalid(kType, "outcome is missing");
  const DeliveryOutcome& outcome = message.outcome();
  switch (outcome.kind()) {
    case DeliveryOutcome::KIND_ACCEPTED:
      event.status = klaxon::types::v1::ALERT_STATUS_SENT;
      break;
    case DeliveryOutcome::KIND_REJECTED:
    case DeliveryOutcome::KIND_GAVE_UP:
      event.status = klaxon::types::v1::ALERT_STATUS_FAILED;
      break;
    default:
      return Invalid(kType, "outcome.kind is unspecified");
  }
  event.twilio_sid = outcome.twilio_sid();
  event.twilio_error_code = outcome.twilio_error_code();
  event.reason = outcome.reason();
  return event;
}

}  // namespace klaxon::audit
