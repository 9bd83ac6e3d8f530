#pragma once
// Audit's view of an alert: the projection row every consumed event folds into, and the events
// themselves once decoded from Kafka. Plaintext personal data never enters these types: the
// recipient is reduced to its country calling code, last four digits and blind index, and the
// recipient and text are held only sealed (services/audit/personal_data.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/alert_status/alert_status.h"
#include "common/crypto/key_wrapper.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::audit {

using AlertStatus = klaxon::types::v1::AlertStatus;
using Channel = klaxon::types::v1::Channel;

// Statuses move in the rank order of common/alert_status (ADR 0007).
using alert_status::Rank;

// What Twilio charged for one attempt, read back by a worker once it was final (ADR 0036).
struct ChargeRecord {
  int64_t micros = 0;             // millionths of `currency`
  std::string currency;           // ISO 4217: "USD"
  uint32_t segments = 0;          // SMS segments billed; 0 for a call
  uint32_t duration_seconds = 0;  // call seconds billed; 0 for a message
  std::string twilio_account;     // the account's name in Klaxon's configuration

  friend bool operator==(const ChargeRecord&, const ChargeRecord&) = default;
};

struct AttemptRecord {
  uint32_t number = 0;  // 1 for the first try
  // A voice alert's SMS fallback is an SMS attempt; the channel of the event that created it.
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  std::string twilio_sid{};
  int32_t twilio_error_code = 0;
  std::string reason{};
  absl::Time occurred_at{};
  std::optional<ChargeRecord> charge{};  // once read; the first read is kept

  friend bool operator==(const AttemptRecord&, const AttemptRecord&) = default;
};

struct AlertRecord {
  std::string alert_id{};
  std::string caller{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  // Whether the AlertRequested event has been applied; until then the recipient fields are empty
  // (an outcome can be consumed before the request it answers).
  bool requested = false;
  std::string recipient_country_code{};
  std::string recipient_last4{};
  std::string twilio_sid{};
  int32_t twilio_error_code = 0;
  std::string reason{};
  absl::Time created_at{};
  absl::Time updated_at{};
  // occurred_at of the event that last set status and reason: equal-rank-1 events (QUEUED,
  // WAITING) replace each other only when newer, so their order of arrival does not matter.
  absl::Time status_at{};
  std::vector<AttemptRecord> attempts{};  // ordered by number
  // How many times the alert went back to a retry tier (RETRY_SCHEDULED or DEFERRED), each
  // stored event counted once (the store counts it; ApplyEvent leaves it alone).
  uint32_t retry_count = 0;
  // The recipient's blind index and the recipient and text sealed under the data key owned by
  // "alerts/<alert_id>" (columns recipient_ciphertext, text_ciphertext); empty until the
  // AlertRequested is stored, then never replaced (ApplyEvent leaves them alone).
  std::string recipient_index{};
  std::string recipient_ciphertext{};
  std::string text_ciphertext{};
  // That data key as stored, read with the record: nullopt when there is none (before the
  // request, or once retention shredded it).
  std::optional<crypto::WrappedKey> data_key{};
  // SendAlert's callback_url: where the caller is told of this alert's status changes instead of
  // its configured URL (ADR 0028); empty for the caller's own. Set by the AlertRequested.
  std::string callback_url{};
  // A page of an escalation chain (ADR 0029): the chain's id (its first page's alert id) and
  // this page's step, 1 first; empty and 0 for any other alert. Set by the AlertRequested.
  std::string escalation_id{};
  uint32_t escalation_step = 0;
  // On the chain's own record (its first page's): the page whose acknowledgement stopped the
  // chain, that page's step, and when the chain's record of it occurred. Empty, 0 and nullopt
  // until then; the first page named is kept.
  std::string acknowledged_by{};
  uint32_t acknowledged_step = 0;
  std::optional<absl::Time> acknowledged_at{};
  // The message template the text was rendered from (ADR 0030): its name, locale and version;
  // empty and 0 for an alert sent with a text of its own. Set by the AlertRequested.
  std::string template_name{};
  std::string template_locale{};
  uint32_t template_version = 0;

  friend bool operator==(const AlertRecord&, const AlertRecord&) = default;
};

// The status an event moved its alert to, and the alert's channel.
struct StatusAdvance {
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;

  friend bool operator==(const StatusAdvance&, const StatusAdvance&) = default;
};

struct AlertEvent {
  enum class Kind { kRequested, kOutcome };

  Kind kind = Kind::kRequested;
  std::string alert_id{};
  std::string caller{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  uint32_t attempt = 1;
  absl::Time occurred_at{};  // whole microseconds, the precision Postgres keeps
  // The attempt's status: QUEUED for kRequested, any other for kOutcome; UNSPECIFIED leaves the
  // attempts alone (a cancel_requested is about the alert, not one attempt).
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  // kRequested only.
  std::string recipient_country_code{};
  std::string recipient_last4{};
  std::string callback_url{};
  std::string escalation_id{};  // empty, and step 0, for an alert of no escalation chain
  uint32_t escalation_step = 0;
  std::string template_name{};  // empty, with locale '' and version 0, for a text of its own
  std::string template_locale{};
  uint32_t template_version = 0;
  // kOutcome only.
  std::string twilio_sid{};
  int32_t twilio_error_code = 0;
  std::string reason{};
  // What Twilio charged for the attempt (a "charge" event, ADR 0036; status UNSPECIFIED). It
  // proves Twilio accepted the attempt, so it creates the attempt as SENT when no other event has.
  std::optional<ChargeRecord> charge{};
  // The alert's status when it differs from the attempt's (a retry: attempt FAILED, alert
  // WAITING); UNSPECIFIED when the event moves only its attempt (a voice call's callback).
  std::optional<AlertStatus> alert_status{};
  std::optional<std::string> alert_reason{};  // with alert_status; `reason` when unset
  // An escalation chain's acknowledged record (about the chain, ADR 0029): the page whose
  // acknowledgement stopped it and that page's step; empty and 0 on any other event.
  std::string acknowledged_by{};
  uint32_t acknowledged_step = 0;
  // The event log (ADR 0008): the event's key (one row per key, however often it is consumed),
  // its kind ("requested", "cancel_requested", an outcome's kind such as "retry_scheduled", or a
  // Twilio callback's "message_status"/"call_status"), and whether it sends the alert back to a
  // retry tier (RETRY_SCHEDULED, DEFERRED), which alerts.retry_count counts.
  std::string event_key{};
  std::string log_kind{};
  bool counts_retry = false;
};

}  // namespace klaxon::audit
