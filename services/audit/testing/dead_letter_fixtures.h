#pragma once
// Shared pieces of the DLQ's unit tests: a test keyring, a blind index key, dead letters as a
// worker publishes them to klaxon.dlq, and a DeadLetterHandler over a fake store.

#include <string>

#include "absl/time/time.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/log/log.h"
#include "common/transit/testing.h"
#include "klaxon/events/v1/events.pb.h"
#include "prometheus/registry.h"
#include "services/audit/dead_letters/dead_letter_handler.h"
#include "services/audit/dead_letters/dead_letter_metrics.h"
#include "services/audit/personal_data.h"
#include "services/audit/testing/fake_dead_letter_store.h"

namespace klaxon::audit::testing {

inline constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
inline constexpr char kRecipient[] = "+14155550123";
inline constexpr char kText[] = "disk full on db-1";
inline const absl::Time kAcceptedAt = absl::FromUnixSeconds(1'700'000'000);
inline const absl::Time kDeadLetteredAt = kAcceptedAt + absl::Minutes(20);
inline constexpr absl::Duration kTimeToLive = absl::Minutes(30);

inline crypto::LocalKeyring TestKeyring() {
  return crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
}

// The transit keyring the workers sealed the requests under.
inline transit::testing::TestTransit& Transit() {
  static transit::testing::TestTransit* transit = new transit::testing::TestTransit;
  return *transit;
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
  Transit().Seal(request, kRecipient, kText);
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
  letter.set_cause("max_attempts");
  SetTime(dead_lettered_at, *letter.mutable_dead_lettered_at());
  return letter;
}

// A DeadLetterHandler over a fake store, with everything it borrows: the base of the fixtures
// that test the handler and what reads what it stored (the queue, the service). Its members are
// protected so the fixtures use them as their own.
class FakeBackedDeadLetters {
 protected:
  FakeDeadLetterStore store_;
  crypto::LocalKeyring keyring_ = TestKeyring();
  PersonalData personal_data_{keyring_};
  const crypto::BlindIndex blind_index_ = TestBlindIndex();
  prometheus::Registry registry_;
  DeadLetterMetrics metrics_{registry_};
  log::MemorySink sink_;
  log::Logger logger_{
      {.service = "audit"}, log::PhoneRedactor::Create("dead-letter-test-key").value(), sink_};
  DeadLetterHandler handler_{store_,   personal_data_, blind_index_,
                             metrics_, logger_,        Transit().cipher()};
};

}  // namespace klaxon::audit::testing
