#pragma once
// The heart of a delivery worker: for each consumed AlertRequested (from the channel's request
// topic or one of its retry tiers) it decides what becomes of the attempt, in the order of
// docs/adr/0007: stopped, past the deadline, suppressed, limits, then send, classify, record and
// publish. Shared by sms-worker and voice-worker, which differ only in their Sender.
//
// Guarantees: an attempt reaches the Sender at most once (the AttemptLedger claim, taken before
// any other check, so a redelivered attempt never passes the limits again); an attempt whose
// answer was lost is settled by reading Twilio, never resent; a decision is recorded in the
// ledger, then published, before the consumer may store the request's offset (Handle returns OK
// only then); a redelivered request republishes the recorded outcome. A decision the ledger
// cannot take yet is kept in memory and recorded on the retry, never resent.
//
// Status checks are the StatusChecker's (status_checker.h): Handle forwards each one to it.
//
// Personal data (docs/adr/0013): a request's recipient and text are opened from its sealed fields
// once per handling and handed to the checks and the Sender; a request that can never be opened
// (its transit key version was removed, or it was altered) ends KIND_GAVE_UP without a send, and
// one sealed under a version this worker's keyring does not hold yet (a rotation rolling out) is
// handed back.
//
// Thread-safe: Handle may run on many threads at once. Two messages for the same attempt are not
// handled at once in one process (the second is handed back), which keeps the ledger's rule that
// an owner finding its own claim has nothing in flight.

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "common/budgets/budget_guard.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "services/delivery/account_breakers.h"
#include "services/delivery/attempt_ledger.h"
#include "services/delivery/in_flight_limit.h"
#include "services/delivery/retry_policy.h"
#include "services/delivery/retry_scheduler.h"
#include "services/delivery/routing.h"
#include "services/delivery/send_gate.h"
#include "services/delivery/send_limiter.h"
#include "services/delivery/sender.h"
#include "services/delivery/status_checker.h"
#include "services/delivery/suppression_list.h"

namespace klaxon::delivery {

struct DispatcherOptions {
  std::string outcome_topic;  // klaxon.delivery.events with the deployment's prefix
  std::string dlq_topic;      // klaxon.dlq with the deployment's prefix
  std::string worker_id;      // unique per worker process: owns this worker's attempt claims
  bool sms = false;           // an SMS worker: a suppressed recipient ends SUPPRESSED
  absl::Duration publish_timeout = absl::Seconds(10);
  // How long a claim without an outcome may belong to a live worker: longer than a pacing wait,
  // the in-flight wait and Twilio's timeout together. Past it, the worker that held it is
  // presumed dead mid-send and the attempt is settled by reading Twilio.
  absl::Duration claim_lease = absl::Minutes(2);
  // How long to wait for a slot towards Twilio before deferring, and for how long.
  absl::Duration in_flight_wait = absl::Seconds(5);
  absl::Duration in_flight_deferral = absl::Seconds(1);
  // How long after a send Twilio's list is trusted to show it: "not found" before then does not
  // prove the attempt was not taken, so it is settled again later.
  absl::Duration settle_after = absl::Seconds(30);
};

// What the dispatcher reports for metrics and logs.
class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  // `sender`: the number or Messaging Service it was sent from (not personal data).
  virtual void OnSent(const events::v1::AlertRequested& request, std::string_view sender,
                      const SendResult& result, absl::Duration latency) = 0;
  virtual void OnSettled(const events::v1::AlertRequested& request, const SendResult& result) = 0;
  // Every decision that ends a handling (not a republished one).
  virtual void OnDecided(const events::v1::AlertRequested& request,
                         const events::v1::DeliveryOutcome& outcome) = 0;
  // Twilio accepted the alert, `since_accepted` after ingress accepted it.
  virtual void OnAlertAccepted(const events::v1::AlertRequested& request,
                               absl::Duration since_accepted) = 0;
  virtual void OnRetryScheduled(const events::v1::AlertRequested& request,
                                absl::Duration delay) = 0;
  // `limit` names the limit (the SendLimiter's, "in_flight", "twilio_throttle"), or "settlement".
  virtual void OnDeferred(const events::v1::AlertRequested& request, const std::string& limit) = 0;
  // `cause`: "max_attempts" or "deadline".
  virtual void OnDeadLettered(const events::v1::AlertRequested& request,
                              std::string_view cause) = 0;
  // The wait for the reserved pacing slot and the send-time guard together.
  virtual void OnPacingWait(const events::v1::AlertRequested& request, absl::Duration wait) = 0;
  // A 21610 could not be written to the suppression list (the next 21610 writes it again).
  virtual void OnSuppressFailed(const events::v1::AlertRequested& request,
                                const absl::Status& reason) = 0;
  virtual void OnOutcomeRepublished(const events::v1::AlertRequested& request) = 0;
  virtual void OnHandedBack(const events::v1::AlertRequested& request,
                            const absl::Status& reason) = 0;
};

// Everything the dispatcher talks to; all borrowed, all must outlive it and be thread-safe.

struct DispatcherPorts {
  AttemptLedger& ledger;
  Sender& sender;
  messaging::Publisher& publisher;
  RetryScheduler& retries;
  // Which senders each attempt may leave from (routing.h); an attempt no rule matches ends
  // KIND_UNROUTED.
  const Routing& routing;
  // Whether each Twilio account takes sends (account_breakers.h): a rule's sends go to its first
  // account that does, and every send's answer is recorded there.
  AccountBreakers& breakers;
  // The checks before a send, in one step in the common case (send_gate.h).
  SendGate& gate;
  // When the gate's step does not clear the send at once: the send-time guard and the slots in
  // flight, step by step; every slot, the gate's too, is released through `in_flight`.
  SendLimiter& limiter;
  InFlightLimit& in_flight;
  // Written on Twilio's 21610 (unsubscribed); read by the gate.
  SuppressionList& suppressions;
  // Schedules the first status check of each accepted attempt and handles every check.
  StatusChecker& status_checker;
  RetryPolicy& retry_policy;
  DispatchObserver& observer;
  timing::Clock& clock;
  // Opens each request's recipient and text (ADR 0013); retries and dead letters republish them
  // sealed as consumed.
  transit::TransitCipher& transit;
  // Each send reserves its estimate here, or is deferred until a spent budget resets
  // (docs/adr/0037); none: no budgets.
  budgets::BudgetGuard* budgets = nullptr;
};

// What a send reserved against the spend budgets (docs/adr/0037), and when: its charge is
// counted less the reservation, in the periods holding `at`.
struct BudgetReservation {
  int64_t micros = 0;  // 0: nothing reserved (no budgets, an exempt priority, a lost answer)
  absl::Time at;
};

class Dispatcher final : public messaging::MessageHandler {
 public:
  Dispatcher(DispatcherOptions options, DispatcherPorts ports);

  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  using AttemptKey = std::pair<std::string, uint32_t>;

  absl::StatusOr<events::v1::DeliveryOutcome> Deliver(const events::v1::AlertRequested& request,
                                                      const transit::AlertPersonalData& personal);
  // The checks and the send of an attempt the caller holds the claim of.
  absl::StatusOr<events::v1::DeliveryOutcome> SendClaimed(
      const events::v1::AlertRequested& request, const transit::AlertPersonalData& personal);
  // Sends an attempt that passed every check from `sender` (the one its pacing slot is of),
  // holding `in_flight_slot`, and concludes it.
  absl::StatusOr<events::v1::DeliveryOutcome> Send(const events::v1::AlertRequested& request,
                                                   const transit::AlertPersonalData& personal,
                                                   const PacedSender& sender,
                                                   const std::string& in_flight_slot);
  // Records the end of an attempt that `stop` holds back; nothing was sent.
  absl::StatusOr<events::v1::DeliveryOutcome> Stopped(const events::v1::AlertRequested& request,
                                                      const FoundStop& stop);
  // Every account of `rule` is resting (its circuit breaker open): the attempt waits for the first
  // to take a probe again.
  absl::StatusOr<events::v1::DeliveryOutcome> WaitForAnAccount(
      const events::v1::AlertRequested& request, const RoutingRule& rule);
  absl::StatusOr<events::v1::DeliveryOutcome> Conclude(const events::v1::AlertRequested& request,
                                                       const transit::AlertPersonalData& personal,
                                                       const SendResult& result, absl::Time sent_at,
                                                       const BudgetReservation& reservation);
  absl::StatusOr<events::v1::DeliveryOutcome> Settle(const events::v1::AlertRequested& request,
                                                     const transit::AlertPersonalData& personal,
                                                     absl::Time sent_at);
  absl::StatusOr<events::v1::DeliveryOutcome> KeepUnsettled(
      const events::v1::AlertRequested& request, absl::Time sent_at, const std::string& why);
  absl::StatusOr<events::v1::DeliveryOutcome> Retry(const events::v1::AlertRequested& request,
                                                    const SendResult& result);
  // Twilio refused the send for its account's concurrent-request limit and did not process it:
  // the same attempt after Retry-After (or a backoff), without counting an attempt (ADR 0043);
  // dead-lettered only when the alert's time to live runs out first.
  absl::StatusOr<events::v1::DeliveryOutcome> Throttled(const events::v1::AlertRequested& request,
                                                        const SendResult& result);
  absl::StatusOr<events::v1::DeliveryOutcome> Defer(const events::v1::AlertRequested& request,
                                                    absl::Time retry_at, const std::string& limit,
                                                    const std::string& reason);
  // A request ingress scheduled (SendAlert's send_at) that is not yet due: it waits on the retry
  // tiers, unclaimed, and a KIND_SCHEDULED outcome says until when. A CancelAlert meanwhile stops
  // it when it comes due, as any stop does (stopped_alerts::kKeepStopFor outlasts the longest
  // schedule), and its CANCELLED is recorded then.
  absl::Status HoldUntil(const events::v1::AlertRequested& request, absl::Time not_before);
  absl::StatusOr<events::v1::DeliveryOutcome> DeadLetter(const events::v1::AlertRequested& request,
                                                         std::string_view cause,
                                                         const std::string& reason,
                                                         int twilio_error_code);
  // `reservation` goes on the outcome, so the attempt's charge settles it.
  absl::StatusOr<events::v1::DeliveryOutcome> Accepted(const events::v1::AlertRequested& request,
                                                       const SendResult& result,
                                                       const BudgetReservation& reservation);
  // Releases the claim (a failure leaves our own claim, which we may claim again) and returns
  // `status`.
  absl::Status GiveBack(const events::v1::AlertRequested& request, absl::Status status);
  // Records `outcome` in the ledger, or keeps it in memory for the retry when the ledger fails.
  absl::StatusOr<events::v1::DeliveryOutcome> Record(const events::v1::AlertRequested& request,
                                                     const events::v1::DeliveryOutcome& outcome);
  absl::Status PublishOutcome(const events::v1::AlertRequested& request,
                              const events::v1::DeliveryOutcome& outcome);

  // Marks the attempt as handled in this process; false when it already is.
  bool Begin(const AttemptKey& key);
  void End(const AttemptKey& key);
  std::optional<AttemptClaim> Unrecorded(const AttemptKey& key) const;
  void KeepUnrecorded(const AttemptKey& key, std::optional<AttemptClaim> claim);

  const DispatcherOptions options_;
  const DispatcherPorts ports_;
  mutable std::mutex mutex_;
  // Decisions on attempts this worker made that the ledger has not taken yet: a recorded
  // outcome (kDone) or an unsettled send (kUnsettled).
  std::map<AttemptKey, AttemptClaim> unrecorded_;
  std::set<AttemptKey> active_;  // attempts being handled in this process
};

// The outcome event that records a send result (for kAccepted and kRejected).
events::v1::DeliveryOutcome OutcomeOf(const SendResult& result);

}  // namespace klaxon::delivery
