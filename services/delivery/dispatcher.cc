#include "services/delivery/dispatcher.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/prototime/prototime.h"
#include "services/delivery/alert_request.h"

namespace klaxon::delivery {

using events::v1::AlertRequested;
using events::v1::DeliveryOutcome;
using transit::AlertPersonalData;

namespace {

constexpr int kUnsubscribedRecipient = 21610;

using prototime::FromProto;
using prototime::ToProto;

DeliveryOutcome Outcome(DeliveryOutcome::Kind kind, std::string reason) {
  DeliveryOutcome outcome;
  outcome.set_kind(kind);
  outcome.set_reason(std::move(reason));
  return outcome;
}

}  // namespace

DeliveryOutcome OutcomeOf(const SendResult& result) {
  DeliveryOutcome outcome;
  outcome.set_kind(result.kind == SendResult::Kind::kAccepted ? DeliveryOutcome::KIND_ACCEPTED
                                                              : DeliveryOutcome::KIND_REJECTED);
  outcome.set_twilio_sid(result.sid);
  outcome.set_twilio_status(result.provider_status);
  outcome.set_twilio_error_code(result.error_code);
  outcome.set_reason(result.reason);
  outcome.set_twilio_account(result.account);
  return outcome;
}

Dispatcher::Dispatcher(DispatcherOptions options, DispatcherPorts ports)
    : options_(std::move(options)), ports_(ports) {}

absl::Status Dispatcher::Handle(const messaging::InboundMessage& message) {
  AlertRequested request;
  if (!request.ParseFromString(message.value) || request.header().alert_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("message at ", message.topic, "/",
                                                   message.partition, "@", message.offset,
                                                   " is not an AlertRequested with an alert_id"));
  }
  if (!request.check_sid().empty()) return ports_.status_checker.Handle(message);
  if (request.has_not_before()) {
    const absl::Time not_before = prototime::FromProto(request.not_before());
    if (not_before > ports_.clock.Now()) return HoldUntil(request, not_before);
  }
  absl::StatusOr<AlertPersonalData> personal = ports_.transit.OpenAlert(request);
  if (!personal.ok() && !absl::IsUnavailable(personal.status())) {
    // Never deliverable: its transit key version was removed (crypto-shredded) or it was altered.
    const DeliveryOutcome gave_up = Outcome(
        DeliveryOutcome::KIND_GAVE_UP,
        absl::StrCat("the recipient and text of ", AttemptName(request), " cannot be opened (",
                     personal.status().message(), "); Twilio was not called"));
    ports_.observer.OnDecided(request, gave_up);
    return PublishOutcome(request, gave_up);
  }
  const AttemptKey key(request.header().alert_id(), request.header().attempt());
  absl::StatusOr<DeliveryOutcome> outcome =
      absl::UnavailableError(absl::StrCat(AttemptName(request), " is being handled already"));
  if (!personal.ok()) {
    outcome = personal.status();
  } else if (Begin(key)) {
    outcome = Deliver(request, *personal);
    End(key);
  }
  // Scheduled for every accepted outcome, a republished one too, so that a check lost to a
  // failed write is scheduled on the redelivery; a second check of one attempt changes nothing.
  if (outcome.ok() && outcome->kind() == DeliveryOutcome::KIND_ACCEPTED) {
    if (absl::Status scheduled = ports_.status_checker.ScheduleFirstCheck(request, *outcome);
        !scheduled.ok()) {
      outcome =
          absl::UnavailableError(absl::StrCat("the status check of ", AttemptName(request),
                                              " could not be scheduled: ", scheduled.message()));
    }
  }
  if (!outcome.ok()) {
    ports_.observer.OnHandedBack(request, outcome.status());
    return outcome.status();
  }
  return PublishOutcome(request, *outcome);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Deliver(const AlertRequested& request,
                                                    const AlertPersonalData& personal) {
  const std::string& alert_id = request.header().alert_id();
  const uint32_t attempt = request.header().attempt();
  // Decided earlier by this worker, but the ledger could not take it then: never resend.
  if (std::optional<AttemptClaim> kept = Unrecorded({alert_id, attempt})) {
    if (kept->state == AttemptClaim::State::kDone) return Record(request, *kept->outcome);
    return KeepUnsettled(request, kept->sent_at, "Twilio's answer was lost");
  }
  const absl::Time now = ports_.clock.Now();
  absl::StatusOr<AttemptClaim> claim =
      ports_.ledger.Claim(alert_id, attempt, options_.worker_id, now);
  if (!claim.ok()) return claim.status();

  switch (claim->state) {
    case AttemptClaim::State::kDone:
      ports_.observer.OnOutcomeRepublished(request);
      return *claim->outcome;
    case AttemptClaim::State::kInProgress:
      if (now - claim->claimed_at < options_.claim_lease) {
        return absl::UnavailableError(
            absl::StrCat(AttemptName(request), " is being sent by another worker"));
      }
      // The lease ran out without an outcome: the worker holding it died, perhaps mid-send.
      return Settle(request, personal, claim->claimed_at);
    case AttemptClaim::State::kUnsettled:
      return Settle(request, personal, claim->sent_at);
    case AttemptClaim::State::kClaimed:
      break;
  }
  return SendClaimed(request, personal);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::SendClaimed(const AlertRequested& request,
                                                        const AlertPersonalData& personal) {
  const uint32_t attempt = request.header().attempt();
  absl::Time now = ports_.clock.Now();
  const bool past_deadline = now >= DeadlineOf(request);

  // The routing rule names the senders to reserve among, those of its first account that takes
  // sends; with none, nothing is reserved and the attempt ends unrouted, or waits for an account,
  // unless it was stopped or its recipient opted out.
  const RouteQuery route = RouteQuery::Of(request, personal.recipient, request.header().channel());
  const RoutingRule* rule = ports_.routing.Match(route);
  const AccountRoute* account = nullptr;
  if (rule != nullptr && !past_deadline) {
    for (const AccountRoute& candidate : rule->routes) {
      if (ports_.breakers.Admit(candidate.account)) {
        account = &candidate;
        break;
      }
    }
  }

  // One step (one round trip on Redis): the stop, the opt-out and the limits, and when the slot
  // is due at once the slot in flight and the guard too. Past the deadline only the stop is read:
  // a stop ends the attempt as it says, anything else is dead-lettered.
  GateChecks checks{.suppression = options_.sms && !past_deadline};
  if (account != nullptr) checks.reserve_among = account->senders;
  absl::StatusOr<GateDecision> gate = ports_.gate.Open(request, personal.recipient, now, checks);
  if (!gate.ok()) return GiveBack(request, gate.status());
  if (gate->kind == GateDecision::Kind::kStopped) {
    return Stopped(request, {.reason = gate->stop, .chain = gate->chain_stopped});
  }
  if (past_deadline) {
    return DeadLetter(request, "deadline",
                      absl::StrCat("the alert's time to live ran out before attempt ", attempt), 0);
  }
  // A reservation names one of the account's senders; anything else would send on an account the
  // breakers did not let through.
  if ((gate->kind == GateDecision::Kind::kCleared || gate->kind == GateDecision::Kind::kReserved) &&
      (account == nullptr || gate->limit.sender.account != account->account)) {
    if (gate->kind == GateDecision::Kind::kCleared) ports_.in_flight.Release(gate->in_flight_slot);
    return GiveBack(request, absl::InternalError(
                                 absl::StrCat("the send gate reserved ", gate->limit.sender.address,
                                              ", which is none of the senders it was given")));
  }
  switch (gate->kind) {
    case GateDecision::Kind::kSuppressed:
      return Record(request, Outcome(DeliveryOutcome::KIND_SUPPRESSED,
                                     "the recipient opted out of SMS; Twilio was not called"));
    case GateDecision::Kind::kDeferred:
      return Defer(request, gate->limit.retry_at, gate->limit.limit, gate->limit.reason);
    case GateDecision::Kind::kCleared:
      return Send(request, personal, gate->limit.sender, gate->in_flight_slot);
    case GateDecision::Kind::kReserved:
      break;
    case GateDecision::Kind::kUnreserved:
      if (rule == nullptr) {
        return Record(request, Outcome(DeliveryOutcome::KIND_UNROUTED, UnroutedReason(route)));
      }
      if (account == nullptr) return WaitForAnAccount(request, *rule);
      return GiveBack(request, absl::InternalError("the send gate answered what was not asked"));
    case GateDecision::Kind::kStopped:
      return GiveBack(request, absl::InternalError("the send gate answered what was not asked"));
  }

  // The slot is reserved for later, or no slot in flight or guard was free at once: wait, then
  // take them step by step. Pacing's wait, the reserved slot's and the send-time guard's, is
  // reported once per handling.
  const absl::Duration slot_wait = std::max(gate->limit.send_at - now, absl::ZeroDuration());
  absl::Duration guard_wait;
  auto report_pacing_wait = [&] {
    if (slot_wait + guard_wait > absl::ZeroDuration()) {
      ports_.observer.OnPacingWait(request, slot_wait + guard_wait);
    }
  };
  if (slot_wait > absl::ZeroDuration()) ports_.clock.SleepFor(slot_wait);
  absl::StatusOr<std::string> slot =
      ports_.in_flight.Acquire(options_.in_flight_wait, request.priority());
  if (absl::IsResourceExhausted(slot.status())) {
    report_pacing_wait();
    return Defer(request, ports_.clock.Now() + options_.in_flight_deferral, "in_flight",
                 "the bound on requests in flight to Twilio");
  }
  if (!slot.ok()) return GiveBack(request, slot.status());

  // The send-time guard, as late as possible: the slot was reserved for earlier, and the sleep
  // and the in-flight wait may have ended late, which must not crowd the sends after this one.
  const absl::Time guarded_from = ports_.clock.Now();
  for (now = guarded_from;; now = ports_.clock.Now()) {
    guard_wait = now - guarded_from;
    absl::StatusOr<LimitDecision> clear =
        ports_.limiter.ClearToSend(request, gate->limit.sender, now, guard_wait);
    if (!clear.ok()) {
      ports_.in_flight.Release(*slot);
      return GiveBack(request, clear.status());
    }
    if (clear->kind == LimitDecision::Kind::kDefer) {
      ports_.in_flight.Release(*slot);
      report_pacing_wait();
      return Defer(request, clear->retry_at, clear->limit, clear->reason);
    }
    if (clear->send_at <= now) break;
    ports_.clock.SleepFor(clear->send_at - now);
  }
  report_pacing_wait();
  // Seconds may have passed since the gate read the stop: a cancel or an acknowledgement made
  // meanwhile holds this send back too.
  absl::StatusOr<std::optional<FoundStop>> stop = ports_.gate.FindStop(request);
  if (!stop.ok() || stop->has_value()) ports_.in_flight.Release(*slot);
  if (!stop.ok()) return GiveBack(request, stop.status());
  if (stop->has_value()) return Stopped(request, **stop);
  return Send(request, personal, gate->limit.sender, *slot);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Stopped(const AlertRequested& request,
                                                    const FoundStop& stop) {
  const uint32_t attempt = request.header().attempt();
  // A page of an escalation chain stopped before this page's turn (docs/adr/0029): the page was
  // never sent, so it ends CANCELLED whoever stopped the chain; the chain's own record says who.
  if (stop.chain) {
    const std::string why = stop.reason == stopped_alerts::StopReason::kAcknowledged
                                ? absl::StrCat("the escalation was acknowledged before step ",
                                               request.escalation_step())
                                : "the caller cancelled the escalation";
    return Record(request,
                  Outcome(DeliveryOutcome::KIND_CANCELLED, absl::StrCat("not paged: ", why)));
  }
  if (stop.reason == stopped_alerts::StopReason::kAcknowledged) {
    return Record(request, Outcome(DeliveryOutcome::KIND_ACKNOWLEDGED,
                                   absl::StrCat("the alert was acknowledged; attempt ", attempt,
                                                " was not sent")));
  }
  return Record(request, Outcome(DeliveryOutcome::KIND_CANCELLED,
                                 absl::StrCat("the caller cancelled the alert; attempt ", attempt,
                                              " was not sent")));
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Send(const AlertRequested& request,
                                                 const AlertPersonalData& personal,
                                                 const PacedSender& sender,
                                                 const std::string& in_flight_slot) {
  BudgetReservation reservation{.micros = 0, .at = ports_.clock.Now()};
  if (ports_.budgets != nullptr) {
    const int64_t estimate = ports_.budgets->settings().Estimate(request.header().channel(),
                                                                 personal.recipient, personal.text);
    absl::StatusOr<budgets::Reservation> reserved = ports_.budgets->ReserveSend(
        request.header().caller(), sender.account, request.priority(), estimate, reservation.at);
    if (!reserved.ok() || reserved->hold.has_value()) ports_.in_flight.Release(in_flight_slot);
    if (!reserved.ok()) return GiveBack(request, reserved.status());
    if (reserved->hold.has_value()) {
      // Held past the alert's time to live, it would only come back to be dead-lettered.
      if (reserved->hold->until >= DeadlineOf(request)) {
        return DeadLetter(request, "budget",
                          absl::StrCat(reserved->hold->reason,
                                       "; the alert's time to live ends "
                                       "before the budget allows it"),
                          0);
      }
      return Defer(request, reserved->hold->until, "budget", reserved->hold->reason);
    }
    reservation.micros = reserved->micros;
  }
  const absl::Time sent_at = ports_.clock.Now();
  const SendResult result = ports_.sender.Send(request, personal, sender);
  ports_.in_flight.Release(in_flight_slot);
  ports_.breakers.Record(sender.account, result, sent_at);
  ports_.observer.OnSent(request, sender.address, result, ports_.clock.Now() - sent_at);
  if (result.kind != SendResult::Kind::kAccepted && reservation.micros != 0) {
    // Twilio did not take it (or may have: a settlement that finds it leaves its charge to count
    // in full). A give-back that fails leaves the estimate spent, the safe side of a cap.
    ports_.budgets
        ->GiveBack(request.header().caller(), sender.account, reservation.micros, reservation.at)
        .IgnoreError();
    reservation.micros = 0;
  }
  return Conclude(request, personal, result, sent_at, reservation);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::WaitForAnAccount(const AlertRequested& request,
                                                             const RoutingRule& rule) {
  absl::Time retry_at = absl::InfiniteFuture();
  std::vector<std::string> until;
  for (const AccountRoute& route : rule.routes) {
    const absl::Time next_try = ports_.breakers.NextTry(route.account);
    retry_at = std::min(retry_at, next_try);
    until.push_back(absl::StrCat(route.account, " until ",
                                 absl::FormatTime("%H:%M:%SZ", next_try, absl::UTCTimeZone())));
  }
  return Defer(request, retry_at, "account_unavailable",
               absl::StrCat("the circuit breakers of the Twilio accounts of routing rule \"",
                            rule.name, "\" (", absl::StrJoin(until, ", "), ")"));
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Conclude(const AlertRequested& request,
                                                     const AlertPersonalData& personal,
                                                     const SendResult& result, absl::Time sent_at,
                                                     const BudgetReservation& reservation) {
  switch (result.kind) {
    case SendResult::Kind::kAccepted:
      return Accepted(request, result, reservation);
    case SendResult::Kind::kRejected:
      if (options_.sms && result.error_code == kUnsubscribedRecipient) {
        // The rejection stands either way; a failed write is repaired by the next 21610.
        if (absl::Status suppressed =
                ports_.suppressions.Suppress(personal.recipient, ports_.clock.Now());
            !suppressed.ok()) {
          ports_.observer.OnSuppressFailed(request, suppressed);
        }
      }
      return Record(request, OutcomeOf(result));
    case SendResult::Kind::kRetryable:
    case SendResult::Kind::kSlowDown:
      return Retry(request, result);
    case SendResult::Kind::kThrottled:
      return Throttled(request, result);
    case SendResult::Kind::kUnknown:
      return Settle(request, personal, sent_at);
  }
  return absl::InternalError("unhandled send result");
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Settle(const AlertRequested& request,
                                                   const AlertPersonalData& personal,
                                                   absl::Time sent_at) {
  const SendResult result = ports_.sender.Settle(request, personal, sent_at);
  ports_.observer.OnSettled(request, result);
  const absl::Time now = ports_.clock.Now();
  switch (result.kind) {
    case SendResult::Kind::kAccepted:
      // Nothing reserved any more (the send's reservation was given back when its answer was
      // lost): the charge counts in full, in the period of the send.
      return Accepted(request, result, BudgetReservation{.micros = 0, .at = sent_at});
    case SendResult::Kind::kRejected:
      return Record(request, OutcomeOf(result));
    case SendResult::Kind::kRetryable:
    case SendResult::Kind::kSlowDown:
      // Twilio's list may not show a message created a moment ago: "not found" proves nothing
      // until settle_after has passed since the send.
      if (now - sent_at >= options_.settle_after) return Retry(request, result);
      break;
    case SendResult::Kind::kThrottled:  // the read was refused: nothing is known yet
    case SendResult::Kind::kUnknown:
      break;
  }
  if (now >= std::min(DeadlineOf(request), sent_at + alert_lifetime::kMaxTimeToLive)) {
    return Record(request,
                  Outcome(DeliveryOutcome::KIND_GAVE_UP,
                          absl::StrCat("Twilio's answer to attempt ", request.header().attempt(),
                                       " was lost and could not be settled before the "
                                       "deadline; not resent, to avoid a duplicate")));
  }
  return KeepUnsettled(request, sent_at, result.reason);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::KeepUnsettled(const AlertRequested& request,
                                                          absl::Time sent_at,
                                                          const std::string& why) {
  const AttemptKey key(request.header().alert_id(), request.header().attempt());
  if (absl::Status marked = ports_.ledger.MarkUnsettled(key.first, key.second, sent_at);
      !marked.ok()) {
    KeepUnrecorded(key, AttemptClaim{.state = AttemptClaim::State::kUnsettled, .sent_at = sent_at});
    return absl::UnavailableError(absl::StrCat(AttemptName(request),
                                               " could not be marked unsettled (", marked.message(),
                                               "); it is kept to retry"));
  }
  KeepUnrecorded(key, std::nullopt);
  const absl::Time now = ports_.clock.Now();
  // The first settlement that can trust "not found" is settle_after past the send.
  const absl::Time trusted = sent_at + options_.settle_after;
  const absl::Time settle_at = std::max(
      now, std::min(DeadlineOf(request), trusted > now ? trusted : now + options_.settle_after));
  if (absl::Status scheduled = ports_.retries.Schedule(request, settle_at); !scheduled.ok()) {
    return scheduled;
  }
  ports_.observer.OnDeferred(request, "settlement");
  DeliveryOutcome outcome = Outcome(
      DeliveryOutcome::KIND_DEFERRED,
      absl::StrCat("Twilio's answer to attempt ", request.header().attempt(), " is unknown (", why,
                   "); it is settled by reading Twilio, never resent"));
  *outcome.mutable_retry_at() = ToProto(settle_at);
  return outcome;
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Retry(const AlertRequested& request,
                                                  const SendResult& result) {
  const uint32_t attempt = request.header().attempt();
  if (!ports_.retry_policy.MayRetry(attempt)) {
    return DeadLetter(
        request, "max_attempts",
        absl::StrCat("attempt ", attempt, " of at most ",
                     ports_.retry_policy.options().max_attempts, " failed: ", result.reason),
        result.error_code);
  }
  const absl::Duration wait = ports_.retry_policy.Backoff(
      attempt, result.retry_after, result.kind == SendResult::Kind::kSlowDown);
  const absl::Time retry_at = ports_.clock.Now() + wait;
  if (retry_at >= DeadlineOf(request)) {
    return DeadLetter(request, "deadline",
                      absl::StrCat("attempt ", attempt, " failed (", result.reason,
                                   ") and the alert's time to live runs out before another"),
                      result.error_code);
  }
  AlertRequested next = request;
  next.mutable_header()->set_attempt(attempt + 1);
  next.clear_deferred_by();
  next.clear_throttled();
  // Not scheduled: the attempt was not processed by Twilio, so handing it back is safe.
  if (absl::Status scheduled = ports_.retries.Schedule(next, retry_at); !scheduled.ok()) {
    return GiveBack(request, scheduled);
  }
  ports_.observer.OnRetryScheduled(request, wait);
  DeliveryOutcome outcome = Outcome(DeliveryOutcome::KIND_RETRY_SCHEDULED,
                                    absl::StrCat("attempt ", attempt, " failed (", result.reason,
                                                 "); attempt ", attempt + 1, " follows"));
  outcome.set_twilio_error_code(result.error_code);
  *outcome.mutable_retry_at() = ToProto(retry_at);
  return Record(request, outcome);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Throttled(const AlertRequested& request,
                                                      const SendResult& result) {
  // Backs off with each refusal in a row, jittered so that refused alerts do not come back
  // together, on top of what a send that found no slot in flight waits; at least Retry-After.
  // Only the least wait (the in-flight deferral or Retry-After) passing the deadline ends the
  // alert: a drawn backoff that would is drawn again within the time left, still jittered, since
  // alerts refused together often share a deadline (a bulk send's recipients).
  const uint32_t refusals = request.throttled() + 1;
  const absl::Time now = ports_.clock.Now();
  const absl::Time deadline = DeadlineOf(request);
  const absl::Duration least_wait =
      std::max(options_.in_flight_deferral, RetryPolicy::HonouredRetryAfter(result.retry_after));
  if (now + least_wait >= deadline) {
    return DeadLetter(
        request, "deadline",
        absl::StrCat("Twilio refused attempt ", request.header().attempt(), " (", result.reason,
                     ") and the alert's time to live runs out before it may "
                     "be sent again"),
        result.error_code);
  }
  // The latest wait that still comes back an in-flight deferral before the deadline.
  const absl::Duration latest_wait = deadline - options_.in_flight_deferral - now;
  absl::Duration wait =
      std::max(least_wait, options_.in_flight_deferral +
                               ports_.retry_policy.Backoff(refusals, std::nullopt,
                                                           /*slow_down_asked=*/false));
  if (wait > latest_wait) {
    wait = least_wait +
           ports_.retry_policy.Jitter(std::max(absl::ZeroDuration(), latest_wait - least_wait));
  }
  const absl::Time retry_at = now + wait;
  AlertRequested again = request;
  again.set_throttled(refusals);
  absl::StatusOr<DeliveryOutcome> deferred =
      Defer(again, retry_at, "twilio_throttle",
            absl::StrCat("Twilio's concurrent-request limit on the account (", result.reason,
                         "; not processed, so the same attempt is sent again)"));
  if (deferred.ok()) deferred->set_twilio_error_code(result.error_code);
  return deferred;
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Defer(const AlertRequested& request,
                                                  absl::Time retry_at, const std::string& limit,
                                                  const std::string& reason) {
  // Nothing was sent: the same attempt comes back from the tier, so the claim is given back.
  if (absl::Status released = ports_.ledger.Release(request.header().alert_id(),
                                                    request.header().attempt(), options_.worker_id);
      !released.ok()) {
    return released;
  }
  AlertRequested deferred = request;
  deferred.set_deferred_by(limit);
  if (absl::Status scheduled = ports_.retries.Schedule(deferred, retry_at); !scheduled.ok()) {
    return scheduled;
  }
  ports_.observer.OnDeferred(request, limit);
  DeliveryOutcome outcome =
      Outcome(DeliveryOutcome::KIND_DEFERRED, absl::StrCat("held back by ", reason));
  *outcome.mutable_retry_at() = ToProto(retry_at);
  return outcome;
}

absl::Status Dispatcher::HoldUntil(const AlertRequested& request, absl::Time not_before) {
  if (absl::Status held = ports_.retries.Schedule(request, not_before); !held.ok()) {
    ports_.observer.OnHandedBack(request, held);
    return held;
  }
  const bool quiet = !request.quiet_hours().empty();
  ports_.observer.OnDeferred(request, quiet ? "quiet_hours" : "schedule");
  DeliveryOutcome outcome =
      Outcome(DeliveryOutcome::KIND_SCHEDULED,
              quiet ? absl::StrCat("the recipient's quiet hours (", request.quiet_hours(), ")")
                    : "scheduled by the caller");
  *outcome.mutable_retry_at() = ToProto(not_before);
  return PublishOutcome(request, outcome);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::DeadLetter(const AlertRequested& request,
                                                       std::string_view cause,
                                                       const std::string& reason,
                                                       int twilio_error_code) {
  events::v1::DeadLetter letter;
  *letter.mutable_request() = request;
  letter.set_reason(reason);
  letter.set_twilio_error_code(twilio_error_code);
  letter.set_cause(std::string(cause));
  *letter.mutable_dead_lettered_at() = ToProto(ports_.clock.Now());
  if (absl::Status published = ports_.publisher.Publish({.topic = options_.dlq_topic,
                                                         .key = request.header().alert_id(),
                                                         .value = letter.SerializeAsString()},
                                                        options_.publish_timeout);
      !published.ok()) {
    return GiveBack(
        request, absl::UnavailableError(absl::StrCat(
                     AttemptName(request), " could not be dead-lettered: ", published.message())));
  }
  ports_.observer.OnDeadLettered(request, cause);
  DeliveryOutcome outcome = Outcome(DeliveryOutcome::KIND_DEAD_LETTERED, reason);
  outcome.set_twilio_error_code(twilio_error_code);
  return Record(request, outcome);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Accepted(const AlertRequested& request,
                                                     const SendResult& result,
                                                     const BudgetReservation& reservation) {
  if (request.has_accepted_at()) {
    // From when the alert could first be sent: a scheduled one waited for its send_at on purpose.
    const absl::Time sendable_from =
        request.has_send_at() ? FromProto(request.send_at()) : FromProto(request.accepted_at());
    ports_.observer.OnAlertAccepted(request, ports_.clock.Now() - sendable_from);
  }
  DeliveryOutcome outcome = OutcomeOf(result);
  if (ports_.budgets != nullptr) {
    outcome.set_budget_reserved_micros(reservation.micros);
    *outcome.mutable_budget_reserved_at() = ToProto(reservation.at);
  }
  return Record(request, outcome);
}

absl::Status Dispatcher::GiveBack(const AlertRequested& request, absl::Status status) {
  ports_.ledger.Release(request.header().alert_id(), request.header().attempt(), options_.worker_id)
      .IgnoreError();
  return status;
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Record(const AlertRequested& request,
                                                   const DeliveryOutcome& outcome) {
  const AttemptKey key(request.header().alert_id(), request.header().attempt());
  if (absl::Status recorded = ports_.ledger.RecordOutcome(key.first, key.second, outcome);
      !recorded.ok()) {
    KeepUnrecorded(key, AttemptClaim{.state = AttemptClaim::State::kDone, .outcome = outcome});
    return absl::UnavailableError(absl::StrCat("the outcome of ", AttemptName(request),
                                               " could not be recorded (", recorded.message(),
                                               "); it is kept to retry"));
  }
  KeepUnrecorded(key, std::nullopt);
  ports_.observer.OnDecided(request, outcome);
  return outcome;
}

bool Dispatcher::Begin(const AttemptKey& key) {
  std::lock_guard lock(mutex_);
  return active_.insert(key).second;
}

void Dispatcher::End(const AttemptKey& key) {
  std::lock_guard lock(mutex_);
  active_.erase(key);
}

std::optional<AttemptClaim> Dispatcher::Unrecorded(const AttemptKey& key) const {
  std::lock_guard lock(mutex_);
  auto it = unrecorded_.find(key);
  if (it == unrecorded_.end()) return std::nullopt;
  return it->second;
}

void Dispatcher::KeepUnrecorded(const AttemptKey& key, std::optional<AttemptClaim> claim) {
  std::lock_guard lock(mutex_);
  if (claim) {
    unrecorded_[key] = *std::move(claim);
  } else {
    unrecorded_.erase(key);
  }
}

absl::Status Dispatcher::PublishOutcome(const AlertRequested& request,
                                        const DeliveryOutcome& outcome) {
  events::v1::DeliveryEvent event;
  *event.mutable_header() = request.header();
  *event.mutable_header()->mutable_occurred_at() = ToProto(ports_.clock.Now());
  *event.mutable_outcome() = outcome;
  absl::Status status = ports_.publisher.Publish({.topic = options_.outcome_topic,
                                                  .key = request.header().alert_id(),
                                                  .value = event.SerializeAsString()},
                                                 options_.publish_timeout);
  if (status.ok()) return status;
  return absl::UnavailableError(absl::StrCat("the outcome of alert ", request.header().alert_id(),
                                             " could not be published: ", status.message()));
}

}  // namespace klaxon::delivery
