#pragma once
// The SendAlert use case: validate, dedupe by (caller, idempotency key), publish the request to
// its channel's Kafka topic and answer only once Kafka has acknowledged it.
//
// A repeat of a request whose first publish may not have completed (the record exists but is not
// marked published) publishes again under the same alert_id. Downstream consumers are idempotent
// by alert_id, so this can only close a gap, never create a second alert.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/channels/channel_switches.h"
#include "common/ids/id_generator.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "services/ingress/caller_quota.h"
#include "services/ingress/idempotency_store.h"
#include "services/ingress/intake_admission.h"
#include "services/ingress/send_alert_validation.h"

namespace klaxon::ingress {

struct IntakeTopics {
  std::string sms;    // e.g. klaxon.sms.requests, with the deployment's prefix
  std::string voice;  // e.g. klaxon.voice.requests
};

struct IntakeOptions {
  IntakeTopics topics;
  absl::Duration publish_timeout = absl::Seconds(5);
  absl::Duration idempotency_window = absl::Hours(24);
  CallerQuota* quota = nullptr;  // borrowed; none: callers are not limited
  // Borrowed; none: every valid request is taken in. Above capacity a request is refused with
  // RESOURCE_EXHAUSTED before it costs a round trip (intake_admission.h).
  IntakeAdmission* admission = nullptr;
  // Borrowed; none: every channel is on. A new alert for a channel an operator switched off is
  // refused with FAILED_PRECONDITION naming the switch (docs/adr/0012); a repeat of an alert
  // already accepted still answers with its id.
  const channels::ChannelSwitchboard* switches = nullptr;
  // Keys the request fingerprint (RequestFingerprint): KLAXON_PII_HMAC_KEY.
  std::string fingerprint_key;
};

// What AlertIntake reports for metrics and logs; implemented by the service's observer.
class IntakeObserver {
 public:
  virtual ~IntakeObserver() = default;
  virtual void OnAccepted(std::string_view caller, const alerts::v1::SendAlertRequest& request,
                          std::string_view alert_id, bool duplicate,
                          absl::Duration publish_latency) = 0;
  virtual void OnRejected(std::string_view caller, const absl::Status& status) = 0;
};

class AlertIntake {
 public:
  // `transit` seals the recipient and text into the published AlertRequested (ADR 0013).
  AlertIntake(IntakeOptions options, IdempotencyStore& store, messaging::Publisher& publisher,
              transit::TransitCipher& transit, IntakeObserver& observer,
              ids::IdGenerator& alert_ids, timing::Clock& clock);

  absl::StatusOr<alerts::v1::SendAlertResponse> Send(std::string_view caller,
                                                     const alerts::v1::SendAlertRequest& request);

 private:
  absl::StatusOr<alerts::v1::SendAlertResponse> Accept(std::string_view caller,
                                                       const alerts::v1::SendAlertRequest& request);
  absl::Status Publish(std::string_view caller, std::string_view alert_id,
                       const alerts::v1::SendAlertRequest& request, const ValidatedAlert& alert);

  const IntakeOptions options_;
  IdempotencyStore& store_;
  messaging::Publisher& publisher_;
  transit::TransitCipher& transit_;
  IntakeObserver& observer_;
  ids::IdGenerator& alert_ids_;
  timing::Clock& clock_;
};

// A stable digest of what the caller asked for, so that reusing an idempotency key for a
// different request is refused instead of silently answered with the first alert.
// HMAC-SHA256 under `key` of the request's canonical encoding, hex: equal for equal requests, and
// without the key it says nothing about the recipient or the text kept beside it in Redis.
std::string RequestFingerprint(absl::string_view hmac_key,
                               const alerts::v1::SendAlertRequest& request);

}  // namespace klaxon::ingress
