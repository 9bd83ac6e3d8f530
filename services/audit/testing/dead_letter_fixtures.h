#pragma once
// Shared pieces of the DLQ's unit tests: a test keyring, a blind index key, and dead letters as
// a worker publishes them to klaxon.dlq.

#include <string>

#include "absl/time/time.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit::testing {

inline constexpr char kRecipient[] = "+14155550123";
inline constexpr char kText[] = "disk full on db-1";
inline const absl::Time kAcceptedAt = absl::FromUnixSeconds(1'700'000'000);
inline const absl::Time kDeadLetteredAt = kAcceptedAt + absl::Minutes(20);
inline constexpr absl::Duration kTimeToLive = absl::Minutes(30);

inline crypto::LocalKeyring TestKeyring() {
  return crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
}

inline crypto::BlindIndex TestBlindIndex() {
  return crypto::BlindIndex::Create(std::string(32, 'b')).value();
}

inline void SetTime(absl::Time time, google::protobuf::Timestamp& out) {
  out.set_seconds(absl::ToUnixSeconds(time));
  out.set_nanos(0);
}

// The request of attempt `attempt` of an alert, as ingress and the worker built it.
inline events::v1::AlertRequested Request(const std::string& alert_id,
                                          const std::string& caller = "billing",
                                          types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  events::v1::AlertRequested request;
  events::v1::EventHeader& header = *request.mutable_header();
  header.set_alert_id(alert_id);
  header.set_caller(caller);
  header.set_channel(channel);
  header.set_attempt(3);
  SetTime(kAcceptedAt + absl::Minutes(10), *header.mutable_occurred_at());
  request.set_recipient(kRecipient);
  request.set_text(kText);
  request.set_idempotency_key("deploy-42");
  (*request.mutable_metadata())["service"] = "db";
  SetTime(kAcceptedAt, *request.mutable_accepted_at());
  SetTime(kAcceptedAt + kTimeToLive, *request.mutable_deadline());
  SetTime(kAcceptedAt + absl::Minutes(10), *request.mutable_not_before());
  request.set_deferred_by("recipient");
  if (channel == types::v1::CHANNEL_VOICE) request.mutable_voice()->set_max_calls(2);
  return request;
}

inline events::v1::DeadLetter Letter(const events::v1::AlertRequested& request,
                                     absl::Time dead_lettered_at = kDeadLetteredAt) {
  events::v1::DeadLetter letter;
  *letter.mutable_request() = request;
  letter.set_reason("out of attempts after 3; last: HTTP 503");
  letter.set_twilio_error_code(30008);
  SetTime(dead_lettered_at, *letter.mutable_dead_lettered_at());
  return letter;
}

}  // namespace klaxon::audit::testing
