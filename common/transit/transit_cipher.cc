#include "common/transit/transit_cipher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::transit {
namespace {

// The "table" of crypto::PersonalData's binding: the event message the fields travel in.
constexpr absl::string_view kAlertRequested = "klaxon.events.v1.AlertRequested";
constexpr absl::string_view kInboundMessage = "klaxon.events.v1.InboundMessage";
constexpr absl::string_view kKeywordMessage = "klaxon.events.v1.KeywordMessage";
// A verification's code is kept in Redis, not in an event: its binding names the store's record.
constexpr absl::string_view kVerification = "klaxon.verification";

absl::StatusOr<std::string> Take(crypto::Fields& fields, absl::string_view name,
                                 absl::string_view table, absl::string_view record) {
  auto found = fields.find(name);
  if (found == fields.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table, " of ", record, " has no sealed field \"", name, "\""));
  }
  return std::move(found->second);
}

}  // namespace

absl::Status TransitCipher::SealInto(absl::string_view table, absl::string_view record,
                                     const crypto::Fields& plaintext,
                                     events::v1::SealedFields& sealed) {
  if (record.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(table, " without a record id to bind to"));
  }
  absl::StatusOr<crypto::SealedRecord> record_sealed = personal_.Seal(table, record, plaintext);
  if (!record_sealed.ok()) return record_sealed.status();
  sealed.Clear();
  sealed.set_key_version(record_sealed->wrapped_key.kek_version);
  sealed.set_wrapped_key(std::move(record_sealed->wrapped_key.sealed));
  for (auto& [name, value] : record_sealed->ciphertext) {
    (*sealed.mutable_fields())[name] = std::move(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<crypto::Fields> TransitCipher::OpenFrom(absl::string_view table,
                                                       absl::string_view record,
                                                       const events::v1::SealedFields& sealed) {
  if (sealed.key_version() == 0 || sealed.fields().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table, " of ", record, " carries no sealed personal data"));
  }
  if (sealed.key_version() > keys_.CurrentVersion()) {
    return absl::UnavailableError(absl::StrCat(
        table, " of ", record, " is sealed under transit key version ", sealed.key_version(),
        ", newer than this keyring's current version ", keys_.CurrentVersion(),
        "; update KLAXON_TRANSIT_KEYRING (add a version everywhere before making it current)"));
  }
  crypto::Fields ciphertext;
  for (const auto& [name, value] : sealed.fields()) ciphertext.emplace(name, value);
  absl::StatusOr<crypto::Fields> opened = personal_.Open(
      table, record, {.kek_version = sealed.key_version(), .sealed = sealed.wrapped_key()},
      ciphertext);
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("transit keyring: ", opened.status().message()));
  }
  return opened;
}

absl::Status TransitCipher::SealAlert(const AlertPersonalData& data,
                                      events::v1::AlertRequested& request) {
  return SealInto(kAlertRequested, request.header().alert_id(),
                  {{std::string(kRecipient), data.recipient}, {std::string(kText), data.text}},
                  *request.mutable_personal());
}

absl::StatusOr<AlertPersonalData> TransitCipher::OpenAlert(
    const events::v1::AlertRequested& request) {
  const std::string& alert_id = request.header().alert_id();
  absl::StatusOr<crypto::Fields> fields = OpenFrom(kAlertRequested, alert_id, request.personal());
  if (!fields.ok()) return fields.status();
  absl::StatusOr<std::string> recipient = Take(*fields, kRecipient, kAlertRequested, alert_id);
  if (!recipient.ok()) return recipient.status();
  absl::StatusOr<std::string> text = Take(*fields, kText, kAlertRequested, alert_id);
  if (!text.ok()) return text.status();
  return AlertPersonalData{.recipient = *std::move(recipient), .text = *std::move(text)};
}

absl::Status TransitCipher::SealInbound(const SenderPersonalData& data,
                                        events::v1::InboundMessage& message) {
  return SealInto(kInboundMessage, message.message_sid(),
                  {{std::string(kFrom), data.from}, {std::string(kBody), data.body}},
                  *message.mutable_personal());
}

absl::StatusOr<SenderPersonalData> TransitCipher::OpenInbound(
    const events::v1::InboundMessage& message) {
  const std::string& sid = message.message_sid();
  absl::StatusOr<crypto::Fields> fields = OpenFrom(kInboundMessage, sid, message.personal());
  if (!fields.ok()) return fields.status();
  absl::StatusOr<std::string> from = Take(*fields, kFrom, kInboundMessage, sid);
  if (!from.ok()) return from.status();
  absl::StatusOr<std::string> body = Take(*fields, kBody, kInboundMessage, sid);
  if (!body.ok()) return body.status();
  return SenderPersonalData{.from = *std::move(from), .body = *std::move(body)};
}

absl::Status TransitCipher::SealKeyword(absl::string_view from,
                                        events::v1::KeywordMessage& message) {
  return SealInto(kKeywordMessage, message.message_sid(), {{std::string(kFrom), std::string(from)}},
                  *message.mutable_personal());
}

absl::StatusOr<std::string> TransitCipher::OpenKeyword(const events::v1::KeywordMessage& message) {
  const std::string& sid = message.message_sid();
  absl::StatusOr<crypto::Fields> fields = OpenFrom(kKeywordMessage, sid, message.personal());
  if (!fields.ok()) return fields.status();
  return Take(*fields, kFrom, kKeywordMessage, sid);
}

absl::Status TransitCipher::SealCode(absl::string_view verification_id, absl::string_view code,
                                    events::v1::SealedFields& sealed) {
  return SealInto(kVerification, verification_id, {{std::string(kCode), std::string(code)}},
                  sealed);
}

absl::StatusOr<std::string> TransitCipher::OpenCode(absl::string_view verification_id,
                                                    const events::v1::SealedFields& sealed) {
  absl::StatusOr<crypto::Fields> fields = OpenFrom(kVerification, verification_id, sealed);
  if (!fields.ok()) return fields.status();
  return Take(*fields, kCode, kVerification, verification_id);
}

}  // namespace klaxon::transit
