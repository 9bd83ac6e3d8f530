#include "services/ingress/alert_intake.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/hmac.h"
#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/send_alert_validation.h"

namespace klaxon::ingress {

using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;

std::string RequestFingerprint(absl::string_view hmac_key, const SendAlertRequest& request) {
  // Length-prefixed fields, metadata in key order: no two different requests share an encoding.
  // The prefix keeps these HMACs apart from the phone tokens made under the same key.
  std::string canonical = "klaxon/send-alert-fingerprint/v1;";
  auto append = [&canonical](const std::string& field) {
    absl::StrAppend(&canonical, field.size(), ":", field, ";");
  };
  append(types::v1::Channel_Name(request.channel()));
  append(request.recipient());
  append(request.text());
  const std::map<std::string, std::string> metadata(request.metadata().begin(),
                                                    request.metadata().end());
  for (const auto& [key, value] : metadata) {
    append(key);
    append(value);
  }
  // Appended only when set, so a request without them keeps the fingerprint it had before they
  // existed (a retry across an upgrade is still recognised).
  if (request.has_ttl()) append(request.ttl().SerializeAsString());
  if (request.has_voice()) append(request.voice().SerializeAsString());
  return absl::BytesToHexString(crypto::HmacSha256(hmac_key, canonical));
}

AlertIntake::AlertIntake(IntakeOptions options, IdempotencyStore& store,
                         messaging::Publisher& publisher, transit::TransitCipher& transit,
                         IntakeObserver& observer, ids::IdGenerator& alert_ids,
                         timing::Clock& clock)
    : options_(std::move(options)),
      store_(store),
      publisher_(publisher),
      transit_(transit),
      observer_(observer),
      alert_ids_(alert_ids),
      clock_(clock) {}

absl::StatusOr<SendAlertResponse> AlertIntake::Send(std::string_view caller,
                                                    const SendAlertRequest& request) {
  absl::StatusOr<SendAlertResponse> response = Accept(caller, request);
  if (!response.ok()) observer_.OnRejected(caller, response.status());
  return response;
}

absl::StatusOr<SendAlertResponse> AlertIntake::Accept(std::string_view caller,
                                                      const SendAlertRequest& request) {
  absl::StatusOr<ValidatedAlert> alert = ValidateSendAlert(request);
  if (!alert.ok()) return alert.status();
  std::optional<IntakeAdmission::Ticket> in_flight;
  if (options_.admission != nullptr) {
    absl::StatusOr<IntakeAdmission::Ticket> admitted = options_.admission->Admit(request.channel());
    if (!admitted.ok()) return admitted.status();
    in_flight.emplace(*std::move(admitted));
  }

  const IdempotencyRecord candidate{
      .alert_id = alert_ids_.Next(),
      .request_fingerprint = RequestFingerprint(options_.fingerprint_key, request),
      .channel = request.channel()};
  absl::StatusOr<IdempotencyRecord> record =
      store_.Reserve(caller, request.idempotency_key(), candidate, options_.idempotency_window);
  if (!record.ok()) return record.status();
  if (record->request_fingerprint != candidate.request_fingerprint) {
    return absl::FailedPreconditionError(
        "idempotency_key: was already used for a different request; use a new key");
  }
  const bool duplicate = record->alert_id != candidate.alert_id;

  const absl::Time started = clock_.Now();
  if (!record->published) {
    if (options_.switches != nullptr) {
      if (absl::Status on = options_.switches->CheckOn(request.channel()); !on.ok()) return on;
    }
    // Charged only for alerts about to be made durable: a repeat of an accepted key is free.
    if (options_.quota != nullptr) {
      if (absl::Status admitted = options_.quota->Admit(caller); !admitted.ok()) return admitted;
    }
    absl::Status published = Publish(caller, record->alert_id, request, *alert);
    if (!published.ok()) return published;
    // Kafka has the request now. Failing to note that only costs a repeat one more publish.
    (void)store_.MarkPublished(caller, request.idempotency_key());
  }
  SendAlertResponse response;
  response.set_alert_id(record->alert_id);
  response.set_duplicate(duplicate);
  observer_.OnAccepted(caller, request, record->alert_id, duplicate, clock_.Now() - started);
  return response;
}

absl::Status AlertIntake::Publish(std::string_view caller, std::string_view alert_id,
                                  const SendAlertRequest& request, const ValidatedAlert& alert) {
  const absl::Time accepted_at = clock_.Now();
  events::v1::AlertRequested event;
  events::v1::EventHeader& header = *event.mutable_header();
  header.set_alert_id(std::string(alert_id));
  header.set_caller(std::string(caller));
  header.set_channel(request.channel());
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(accepted_at);
  if (absl::Status sealed =
          transit_.SealAlert({.recipient = alert.recipient, .text = request.text()}, event);
      !sealed.ok()) {
    return sealed;
  }
  event.set_idempotency_key(request.idempotency_key());
  event.mutable_metadata()->insert(request.metadata().begin(), request.metadata().end());
  *event.mutable_accepted_at() = prototime::ToProto(accepted_at);
  *event.mutable_deadline() = prototime::ToProto(accepted_at + alert.ttl);
  if (alert.voice.has_value()) *event.mutable_voice() = *alert.voice;

  const std::string& topic =
      request.channel() == types::v1::CHANNEL_VOICE ? options_.topics.voice : options_.topics.sms;
  absl::Status status = publisher_.Publish(
      {.topic = topic, .key = std::string(alert_id), .value = event.SerializeAsString()},
      options_.publish_timeout);
  if (status.ok()) return status;
  // Whatever Kafka said, the caller may retry with the same key: it is safe and will converge.
  return absl::UnavailableError(absl::StrCat("the alert could not be made durable in Kafka (",
                                             status.message(),
                                             "); retry with the same idempotency_key"));
}

}  // namespace klaxon::ingress
