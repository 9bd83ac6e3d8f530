#include "services/audit/ingest/audit_event_handler.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/phone/phone.h"
#include "nlohmann/json.hpp"
#include "services/audit/ingest/ingest_plan.h"

namespace klaxon::audit {
namespace {

// A sender's blind index, country calling code and last four digits on `entry`; nothing for a
// sender that is not an E.164 number (an alphanumeric sender ID, say).
void SetRecipient(const crypto::BlindIndex& blind_index, const std::string& e164,
                  EventLogEntry& entry) {
  std::optional<std::string> country_code = phone::CountryCallingCode(e164);
  if (!country_code.has_value() || e164.size() < 5) return;
  entry.recipient_index = blind_index.Compute(e164);
  entry.recipient_country_code = *std::move(country_code);
  entry.recipient_last4 = e164.substr(e164.size() - 4);
}

absl::Status SealFailed(const absl::Status& status) {
  return absl::UnavailableError(absl::StrCat(
      "sealing the personal data failed, the message will be retried: ", status.message()));
}

}  // namespace

EventLogEntry LogEntryOf(const AlertEvent& event) {
  return {.event_key = event.event_key,
          .kind = event.log_kind,
          .alert_id = event.alert_id,
          .caller = event.caller,
          .channel = event.channel,
          .attempt = event.attempt,
          .status = event.status != klaxon::types::v1::ALERT_STATUS_UNSPECIFIED
                        ? event.status
                        : event.alert_status.value_or(klaxon::types::v1::ALERT_STATUS_UNSPECIFIED),
          .twilio_sid = event.twilio_sid,
          .twilio_error_code = event.twilio_error_code,
          .reason = event.alert_reason.value_or(event.reason),
          .recipient_country_code = event.recipient_country_code,
          .recipient_last4 = event.recipient_last4,
          .occurred_at = event.occurred_at};
}

AuditEventHandler::AuditEventHandler(BatchWriter& writer, PersonalData& personal_data,
                                     const crypto::BlindIndex& blind_index, const Topics& topics,
                                     AuditMetrics& metrics, timing::Clock& clock,
                                     const log::Logger& logger, const log::PhoneRedactor& redactor,
                                     transit::TransitCipher& transit)
    : writer_(writer),
      personal_data_(personal_data),
      blind_index_(blind_index),
      topics_(topics),
      metrics_(metrics),
      clock_(clock),
      logger_(logger),
      redactor_(redactor),
      transit_(transit) {}

absl::Status AuditEventHandler::Retryable(const messaging::InboundMessage& message,
                                          const absl::Status& status) {
  metrics_.EventConsumed(message.topic, "retry");
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
      absl::IsResourceExhausted(status)) {
    return status;
  }
  return absl::UnavailableError(
      absl::StrCat("the audit store failed, the message will be retried: ", status.message()));
}

void AuditEventHandler::Handle(const messaging::InboundMessage& message,
                               messaging::HandleDone done) {
  if (topics_.IsRequest(message.topic)) {
    HandleRequest(message, std::move(done));
    return;
  }
  if (message.topic == topics_.twilio_events) {
    HandleTwilioEvent(message, std::move(done));
    return;
  }
  if (message.topic != topics_.delivery_events) {
    // A subscription bug, not a bad message: nothing is recorded for a topic audit does not own.
    metrics_.EventConsumed(message.topic, "invalid");
    std::move(done)(
        absl::InvalidArgumentError(absl::StrCat("audit does not consume topic ", message.topic)));
    return;
  }
  absl::StatusOr<AlertEvent> event = DecodeDeliveryEvent(message.value);
  if (!event.ok()) {
    std::move(done)(SkipInvalid(message, event.status()));
    return;
  }
  Ingest(
      message, {.entry = LogEntryOf(*event), .event = *event}, "applied",
      [](const IngestResult&) {}, std::move(done));
}

void AuditEventHandler::HandleRequest(const messaging::InboundMessage& message,
                                      messaging::HandleDone done) {
  absl::StatusOr<DecodedRequest> request = DecodeAlertRequested(message.value, transit_);
  if (absl::IsUnavailable(request.status())) {
    std::move(done)(Retryable(message, request.status()));
    return;
  }
  if (!request.ok()) {
    std::move(done)(SkipInvalid(message, request.status()));
    return;
  }
  absl::StatusOr<SealedRecord> sealed =
      personal_data_.Seal(kAlertsTable, request->event.alert_id,
                          {{kRecipientColumn, request->recipient}, {kTextColumn, request->text}});
  if (!sealed.ok()) {
    std::move(done)(Retryable(message, SealFailed(sealed.status())));
    return;
  }
  EventLogEntry entry = LogEntryOf(request->event);
  entry.recipient_index = blind_index_.Compute(request->recipient);
  Ingest(
      message,
      {.entry = std::move(entry),
       .event = std::move(request->event),
       .alert_personal = *std::move(sealed)},
      "applied", [](const IngestResult&) {}, std::move(done));
}

void AuditEventHandler::HandleTwilioEvent(const messaging::InboundMessage& message,
                                          messaging::HandleDone done) {
  absl::StatusOr<TwilioEventReading> reading =
      DecodeTwilioEvent(message.value, redactor_, transit_);
  if (absl::IsUnavailable(reading.status())) {
    std::move(done)(Retryable(message, reading.status()));
    return;
  }
  if (!reading.ok()) {
    std::move(done)(SkipInvalid(message, reading.status()));
    return;
  }
  if (reading->outcome.has_value()) {
    const std::string_view kind = reading->kind;
    Ingest(
        message, {.entry = LogEntryOf(*reading->outcome), .event = *reading->outcome}, "applied",
        [this, kind](const IngestResult&) { metrics_.TwilioEvent(kind, "applied"); },
        std::move(done));
    return;
  }
  absl::StatusOr<EventLogEntry> entry = TwilioEntry(*reading);
  if (!entry.ok()) {
    std::move(done)(Retryable(message, SealFailed(entry.status())));
    return;
  }
  if (reading->consent.has_value()) {
    IngestItem item{.entry = *std::move(entry), .consent = reading->consent};
    Ingest(
        message, std::move(item), "applied",
        [this, reading = *std::move(reading)](const IngestResult& written) {
          ConsentRecorded(reading, written);
        },
        std::move(done));
    return;
  }
  Ingest(
      message, {.entry = *std::move(entry)}, "ignored",
      [this, &message, reading = *std::move(reading)](const IngestResult&) {
        TwilioEventIgnored(message, reading);
      },
      std::move(done));
}

void AuditEventHandler::TwilioEventIgnored(const messaging::InboundMessage& message,
                                           const TwilioEventReading& reading) {
  metrics_.TwilioEvent(reading.kind, reading.ignored);
  // An unmapped status word may be one Twilio added: worth an operator's look. The SID and the
  // status word are not personal data; the numbers and bodies the event may carry stay out.
  logger_.Log(reading.ignored == "unknown_status" ? log::Level::kWarn : log::Level::kInfo,
              "twilio_event_ignored",
              {{"kind", std::string(reading.kind)},
               {"reason", std::string(reading.ignored)},
               {"sid", reading.sid},
               {"twilio_status", reading.twilio_status},
               {"topic", message.topic},
               {"partition", message.partition},
               {"offset", message.offset}});
}

absl::StatusOr<EventLogEntry> AuditEventHandler::TwilioEntry(const TwilioEventReading& reading) {
  EventLogEntry entry{
      .event_key = reading.event_key,
      .kind = std::string(reading.kind),
      .alert_id = reading.alert_id,
      .attempt = reading.attempt,
      .twilio_sid = reading.sid,
      .reason = reading.consent.has_value()
                    ? reading.consent->keyword
                    : absl::StrCat(std::string(reading.ignored),
                                   reading.twilio_status.empty() ? "" : ": Twilio reported ",
                                   reading.twilio_status),
      .occurred_at = reading.occurred_at};
  if (reading.kind == "message_status" || reading.kind == "inbound_message" ||
      reading.consent.has_value()) {
    entry.channel = klaxon::types::v1::CHANNEL_SMS;
  } else {
    entry.channel = klaxon::types::v1::CHANNEL_VOICE;
  }
  if (!reading.from.empty()) SetRecipient(blind_index_, reading.from, entry);
  if (reading.kind == "inbound_message") {
    const std::string personal =
        nlohmann::json{{"from", reading.from}, {"body", reading.body}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
    absl::StatusOr<SealedRecord> sealed = personal_data_.Seal(kAuditEventsTable, reading.event_key,
                                                              {{kEventPersonalColumn, personal}});
    if (!sealed.ok()) return sealed.status();
    entry.personal = *std::move(sealed);
  }
  return entry;
}

void AuditEventHandler::ConsentRecorded(const TwilioEventReading& reading,
                                        const IngestResult& written) {
  const ConsentChange& change = *reading.consent;
  metrics_.TwilioEvent(reading.kind, written.consent_changed ? "recorded" : "stale");
  // Consent changes are rare and an operator may need to trace one: the token, country code and
  // last four identify the recipient without the number.
  logger_.Info("consent_recorded", {{"kind", std::string(reading.kind)},
                                    {"recipient_token", change.recipient_token},
                                    {"country_code", change.country_code},
                                    {"last4", change.last4},
                                    {"keyword", change.keyword},
                                    {"changed", written.consent_changed},
                                    {"sid", reading.sid}});
}

void AuditEventHandler::Ingest(const messaging::InboundMessage& message, IngestItem item,
                               std::string_view consumed_as, AfterWrite after_write,
                               messaging::HandleDone done) {
  const absl::Time start = clock_.Now();
  // `message` stays valid until `done` is called, which is the last thing this does.
  writer_.Write(std::move(item),
                [this, &message, consumed_as, start, after_write = std::move(after_write),
                 done = std::move(done)](absl::StatusOr<IngestResult> written) mutable {
                  metrics_.ProjectionWrite(clock_.Now() - start);
                  if (!written.ok()) {
                    // The database rejected a value the decoder let through: the message can never
                    // apply.
                    std::move(done)(absl::IsInvalidArgument(written.status())
                                        ? SkipInvalid(message, written.status())
                                        : Retryable(message, written.status()));
                    return;
                  }
                  if (written->advanced.has_value()) metrics_.StatusAdvanced(*written->advanced);
                  metrics_.EventConsumed(message.topic, consumed_as);
                  std::move(after_write)(*written);
                  std::move(done)(absl::OkStatus());
                });
}

absl::Status AuditEventHandler::SkipInvalid(const messaging::InboundMessage& message,
                                            const absl::Status& invalid) {
  metrics_.EventConsumed(message.topic, "invalid");
  return invalid;
}

}  // namespace klaxon::audit
