#pragma once
// Checks a SendAlert request before anything is stored or published. Every rejection is
// kInvalidArgument with a message that names the field and says what is wrong with it.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/twilio/segments.h"
#include "klaxon/alerts/v1/alerts.pb.h"

namespace klaxon::ingress {

inline constexpr size_t kMaxTextCharacters = twilio::kMaxBodyCharacters;
inline constexpr size_t kMaxIdempotencyKeyLength = 128;
inline constexpr size_t kMaxMetadataEntries = 16;
inline constexpr size_t kMaxMetadataKeyLength = 64;
inline constexpr size_t kMaxMetadataValueLength = 256;

// Time to live (ADR 0007): how long an alert is worth sending; at most
// alert_lifetime::kMaxTimeToLive.
inline constexpr absl::Duration kMinTtl = absl::Seconds(1);
inline constexpr absl::Duration kDefaultTtl = absl::Hours(1);
// Voice escalation policy bounds and defaults.
inline constexpr uint32_t kMaxVoiceCalls = 5;
inline constexpr uint32_t kDefaultVoiceCalls = 3;
inline constexpr absl::Duration kMaxCallSpacing = absl::Hours(1);
inline constexpr absl::Duration kDefaultCallSpacing = absl::Seconds(60);
inline constexpr size_t kMaxTimeZoneLength = 64;  // the longest IANA name has 32 characters

// The template an alert's text came from (docs/adr/0030).
struct TemplateUse {
  std::string name;
  std::string locale;
  uint32_t version = 0;
};

// A request that passed validation, with the defaults applied.
struct ValidatedAlert {
  std::string recipient;  // canonical E.164; empty from ValidateAllButRecipient
  std::string text;       // the request's, or its template's rendering
  std::optional<TemplateUse> template_use;
  absl::Duration ttl = kDefaultTtl;
  // send_at when it is still ahead: nothing is sent before it, and the time to live counts from
  // it. nullopt when unset or already past (sent at once).
  std::optional<absl::Time> send_at;
  // Set for a voice alert (max_calls and call_spacing filled in), nullopt for SMS. A voice
  // policy on an SMS alert is refused rather than ignored: the caller expected escalation.
  std::optional<types::v1::VoicePolicy> voice;
  types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED;
  std::optional<absl::TimeZone> time_zone;  // the recipient's, when the request names it
  // Set by the intake when the recipient's quiet hours moved send_at to their end: which window
  // ("22:00-07:00 in Europe/Berlin"). Empty otherwise.
  std::string quiet_hours;
};

// `now` is when ingress received the request: send_at is judged against it. A request naming a
// template is checked but for its text, which it must leave empty: the result's text is empty
// until UseRendering.
absl::StatusOr<ValidatedAlert> ValidateSendAlert(const alerts::v1::SendAlertRequest& request,
                                                 absl::Time now);

// Everything ValidateSendAlert checks but the recipient, which the result leaves empty: what the
// recipients of a bulk send share, checked once before the batch is split into their alerts.
absl::StatusOr<ValidatedAlert> ValidateAllButRecipient(const alerts::v1::SendAlertRequest& request,
                                                       absl::Time now);

// Takes `rendered`, the rendering of the request's template, as `alert`'s text: checked as `text`
// would be (kInvalidArgument naming the template), its voice and language filling in what the
// voice policy leaves empty.
absl::Status UseRendering(const alerts::v1::SendAlertRequest& request,
                          const alerts::v1::RenderedTemplate& rendered, ValidatedAlert& alert);

// The idempotency key's rule (1 to kMaxIdempotencyKeyLength printable ASCII characters without
// spaces), for requests that carry one besides SendAlert's; kInvalidArgument naming the field.
absl::Status ValidateIdempotencyKey(std::string_view key);

}  // namespace klaxon::ingress
