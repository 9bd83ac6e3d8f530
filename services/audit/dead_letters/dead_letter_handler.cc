#include "services/audit/dead_letters/dead_letter_handler.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/audit/dead_letters/stored_dead_letter.h"

namespace klaxon::audit {
namespace {

absl::Status Invalid(absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("DeadLetter: ", problem));
}

// Postgres keeps microseconds.
absl::Time StoredTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixMicros(absl::ToUnixMicros(prototime::FromProto(timestamp)));
}

// What the row holds besides the sealed request; the recipient as validated, and the request's
// personal data opened from its transit seal.
struct DecodedDeadLetter {
  DeadLetterSummary summary;
  phone::PhoneNumber recipient;
  transit::AlertPersonalData personal;
};

absl::StatusOr<DecodedDeadLetter> Decode(const events::v1::DeadLetter& letter,
                                         transit::TransitCipher& transit) {
  if (!letter.has_request()) return Invalid("request is missing");
  const events::v1::AlertRequested& request = letter.request();
  const events::v1::EventHeader& header = request.header();
  if (!ids::IsUuid(header.alert_id())) {
    return Invalid("request.header.alert_id is not a canonical UUID");
  }
  if (header.caller().empty()) return Invalid("request.header.caller is empty");
  if (header.channel() != types::v1::CHANNEL_SMS && header.channel() != types::v1::CHANNEL_VOICE) {
    return Invalid("request.header.channel must be SMS or VOICE");
  }
  if (header.attempt() < 1) return Invalid("request.header.attempt must be at least 1");
  if (!letter.has_dead_lettered_at()) return Invalid("dead_lettered_at is missing");
  absl::StatusOr<transit::AlertPersonalData> personal = transit.OpenAlert(request);
  if (absl::IsUnavailable(personal.status())) return personal.status();
  if (!personal.ok()) return Invalid(personal.status().message());
  absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(personal->recipient);
  if (!recipient.ok())
    return Invalid(absl::StrCat("request.recipient ", recipient.status().message()));
  return DecodedDeadLetter{.summary = {.alert_id = header.alert_id(),
                                       .caller = header.caller(),
                                       .channel = header.channel(),
                                       .attempt = header.attempt(),
                                       .reason = letter.reason(),
                                       .twilio_error_code = letter.twilio_error_code(),
                                       .recipient_country_code = recipient->country_code,
                                       .recipient_last4 = recipient->last4,
                                       .dead_lettered_at = StoredTime(letter.dead_lettered_at()),
                                       .cause = letter.cause()},
                           .recipient = *std::move(recipient),
                           .personal = *std::move(personal)};
}

}  // namespace

DeadLetterHandler::DeadLetterHandler(DeadLetterStore& store, PersonalData& personal_data,
                                     const crypto::BlindIndex& blind_index,
                                     DeadLetterMetrics& metrics, const log::Logger& logger,
                                     transit::TransitCipher& transit)
    : store_(store),
      personal_data_(personal_data),
      transit_(transit),
      blind_index_(blind_index),
      metrics_(metrics),
      logger_(logger) {}

absl::Status DeadLetterHandler::Handle(const messaging::InboundMessage& message) {
  events::v1::DeadLetter letter;
  if (!letter.ParseFromString(message.value)) {
    return Skip(message, Invalid("the value is not a serialized klaxon.events.v1.DeadLetter"));
  }
  absl::StatusOr<DecodedDeadLetter> decoded = Decode(letter, transit_);
  if (absl::IsUnavailable(decoded.status())) return Retry(decoded.status());
  if (!decoded.ok()) return Skip(message, decoded.status());
  const DeadLetterSummary& summary = decoded->summary;

  absl::StatusOr<SealedRecord> sealed = personal_data_.Seal(
      kDeadLettersTable, summary.alert_id,
      {{kRequestColumn, StoredDeadLetterRequest(letter.request(), decoded->personal)}});
  if (!sealed.ok()) return Retry(sealed.status());
  absl::StatusOr<bool> added =
      store_.Add({.summary = summary,
                  .recipient_index = blind_index_.Compute(decoded->recipient.e164),
                  .request_ciphertext = sealed->ciphertext.at(kRequestColumn),
                  .wrapped_key = sealed->wrapped_key});
  if (!added.ok()) {
    // The database refused a value the decoder let through: it can never be stored.
    if (absl::IsInvalidArgument(added.status())) return Skip(message, added.status());
    return Retry(added.status());
  }
  metrics_.Consumed(*added ? "stored" : "duplicate");
  if (*added) {
    logger_.Info("dead_letter_stored", {{"alert_id", summary.alert_id},
                                        {"caller", summary.caller},
                                        {"attempt", summary.attempt},
                                        {"reason", summary.reason},
                                        {"twilio_error_code", summary.twilio_error_code},
                                        {"country_code", summary.recipient_country_code},
                                        {"last4", summary.recipient_last4}});
  }
  return absl::OkStatus();
}

absl::Status DeadLetterHandler::Skip(const messaging::InboundMessage& message,
                                     const absl::Status& invalid) {
  metrics_.Consumed("invalid");
  // The decoder's messages name fields, never their values.
  logger_.Warn("dead_letter_invalid", {{"topic", message.topic},
                                       {"partition", message.partition},
                                       {"offset", message.offset},
                                       {"error", std::string(invalid.message())}});
  return invalid;
}

absl::Status DeadLetterHandler::Retry(const absl::Status& status) {
  metrics_.Consumed("retry");
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
      absl::IsResourceExhausted(status)) {
    return status;
  }
  return absl::UnavailableError(
      absl::StrCat("the dead letter could not be stored, it will be retried: ", status.message()));
}

}  // namespace klaxon::audit
