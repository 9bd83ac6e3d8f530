#pragma once
// Phone verification's use cases (docs/adr/0022): StartVerification mints a code, keeps it as a
// digest (and sealed, for a resend) in the VerificationStore and sends it as an alert through
// SendAlert's intake, so the code's message is as durable, as exactly-once and as limited as any
// alert. CheckVerification counts every check of a pending verification, right or wrong, and
// compares in constant time; the right code approves once, and never again. Each check, and a
// cancel, of a verification is recorded in its code's latest alert's audit trail (a
// VerificationChecked or VerificationCancelled on klaxon.delivery.events), without the code; the
// verification names that alert before the code is sent.
//
// Thread-safe. Start, Check and Cancel wait on the store, so the service runs them on its
// intake threads; Start's answer comes when Kafka has the code's message.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/ids/id_generator.h"
#include "common/limits/rate.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"
#include "klaxon/verify/v1/verify.pb.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/verification/daily_spend.h"
#include "services/ingress/verification/region_permissions.h"
#include "services/ingress/verification/start_limiter.h"
#include "services/ingress/verification/verification_code.h"
#include "services/ingress/verification/verification_store.h"

namespace klaxon::ingress::verification {

struct VerifierOptions {
  int code_length = 6;  // kMinCodeLength to kMaxCodeLength digits
  absl::Duration code_validity = absl::Minutes(10);
  int max_checks = 5;
  // How long a verification is kept past its expiry, so a late check answers EXPIRED rather than
  // NOT_FOUND.
  absl::Duration kept_after_expiry = absl::Hours(1);
  // Starts per recipient (resends included), over every window at once.
  std::vector<limits::Rate> recipient_starts = {{.count = 5, .window = absl::Hours(1)},
                                                {.count = 20, .window = absl::Hours(24)}};
  // Starts to numbers that share their first prefix_digits digits: a script walking a range of
  // premium-rate numbers stays under every recipient's limit but not under its range's.
  std::vector<limits::Rate> prefix_starts = {{.count = 50, .window = absl::Hours(1)}};
  int prefix_digits = 7;
  // Starts per caller ("*" for callers not listed); empty: callers are not limited.
  std::map<std::string, limits::Rate> caller_starts;
  // What a start is estimated to cost, and the most a caller's starts may cost in a UTC day.
  SpendSettings spend;
  RegionPermissions regions;
  std::string webotp_domain;  // empty: no WebOTP line
  // Keys the code digests and the recipients' blind indexes: KLAXON_PII_HMAC_KEY.
  std::string digest_key;
  // Where checks are recorded for audit: klaxon.delivery.events with the deployment's prefix.
  std::string events_topic;
  // Borrowed; none: when the intake refuses a code's send, or answers with the alert of an
  // earlier send, the verification's alert is put right in the store on the thread that reports
  // the answer (the in-memory fakes answer before Send returns). That waits on the store, which
  // Kafka's delivery thread must not do, so a service hands it to this pool. A correction the
  // pool refuses is skipped: that verification's checks are then filed under an alert that was
  // never sent (audit keeps them, with the caller, but no request).
  concurrency::BlockingExecutor* note_executor = nullptr;
};

// Why a start was refused before anything was sent, for metrics.
enum class StartRefusal { kRegion, kCallerLimit, kPrefixLimit, kRecipientLimit, kDailySpend };

// What the verifier reports for metrics and logs.
class VerificationObserver {
 public:
  virtual ~VerificationObserver() = default;
  virtual void OnStarted(types::v1::Channel channel, bool resent) = 0;
  virtual void OnRefused(StartRefusal refusal) = 0;
  // `time_to_approve`: from the start to this check, when it approved.
  virtual void OnChecked(verify::v1::VerificationStatus status,
                         std::optional<absl::Duration> time_to_approve) = 0;
  // A check's or cancel's record for audit was not published (`why`); the check itself stands.
  virtual void OnCheckUnrecorded(const absl::Status& why) = 0;
};

// Everything the verifier talks to; all borrowed, all must outlive it and be thread-safe.
struct VerifierPorts {
  VerificationStore& store;
  StartLimiter& limiter;
  SpendCounter& spend;
  AlertSubmitter& alerts;
  messaging::Publisher& publisher;  // the checks' records
  crypto::CodeSource& codes;
  transit::TransitCipher& transit;  // seals the code kept for a resend
  ids::IdGenerator& ids;
  VerificationObserver& observer;
  timing::Clock& clock;
};

using StartDone =
    absl::AnyInvocable<void(absl::StatusOr<verify::v1::StartVerificationResponse>) &&>;

class Verifier {
 public:
  Verifier(VerifierOptions options, VerifierPorts ports);

  // Calls `done` exactly once: before Start returns for a refusal, otherwise once Kafka has the
  // code's message. Refusals: kInvalidArgument naming the field, kPermissionDenied for a region
  // the caller may not verify, kResourceExhausted (with a retry hint) naming the limit; the
  // intake's own refusals (its quota, a channel switched off) pass through.
  void Start(std::string_view caller, const verify::v1::StartVerificationRequest& request,
             StartDone done);

  // kInvalidArgument for a malformed request; an unknown verification is the status NOT_FOUND,
  // not an error.
  absl::StatusOr<verify::v1::CheckVerificationResponse> Check(
      std::string_view caller, const verify::v1::CheckVerificationRequest& request);

  // kNotFound for a verification the caller does not have.
  absl::StatusOr<verify::v1::CancelVerificationResponse> Cancel(
      std::string_view caller, const verify::v1::CancelVerificationRequest& request);

 private:
  // The verification `id` to keep if the recipient has none pending: a fresh code, digested and
  // sealed.
  absl::StatusOr<Verification> Fresh(const std::string& id, std::string_view caller,
                                     const std::string& recipient_index, types::v1::Channel channel,
                                     absl::Time now, std::string& code);
  // The id the request names, or the recipient's pending verification; nullopt when none.
  absl::StatusOr<std::optional<std::string>> Resolve(
      std::string_view caller, const verify::v1::CheckVerificationRequest& request);
  // The check's answer; a check of a known verification is also recorded for audit.
  absl::StatusOr<verify::v1::CheckVerificationResponse> Answer(
      verify::v1::VerificationStatus status, const Verification* verification,
      std::optional<absl::Duration> time_to_approve = std::nullopt);
  // Publishes `event` (its body set: a check or a cancel) to the trail of the verification's
  // alert.
  void Record(const Verification& verification, events::v1::DeliveryEvent event);
  // Makes `to` the alert of verification `id` if it still names `from` (the store's
  // ReplaceAlert), on the note executor when there is one.
  void ReplaceAlert(std::string caller, std::string id, std::string from, std::string to);
  // Hex HMAC under the digest key of `text` in its `domain` (what kind of thing it is).
  std::string Digest(std::string_view domain, std::string_view text) const;
  std::string RecipientIndex(std::string_view e164) const;
  // Takes one start from every limit the start falls under (caller, number range, recipient) in
  // one step, or from none: the refusal naming the first that is full.
  absl::Status TakeStart(std::string_view caller, std::string_view e164,
                         const std::string& recipient_index, std::string_view member);
  // Charges the estimated price of sending `text` (per segment for an SMS) to the caller's day;
  // kResourceExhausted naming the cap and when it resets when the start would pass it.
  absl::Status Spend(std::string_view caller, types::v1::Channel channel, std::string_view text,
                     absl::Time now);

  const VerifierOptions options_;
  const VerifierPorts ports_;
};

}  // namespace klaxon::ingress::verification
