#include "common/delivery/dispatcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::delivery {

using events::v1::AlertRequested;
using events::v1::DeliveryOutcome;

namespace {

DeliveryOutcome GaveUp(std::string reason) {
  DeliveryOutcome outcome;
  outcome.set_kind(DeliveryOutcome::KIND_GAVE_UP);
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
  return outcome;
}

Dispatcher::Dispatcher(DispatcherOptions options, AttemptLedger& ledger, Sender& sender,
                       messaging::Publisher& publisher, DispatchObserver& observer,
                       std::function<absl::Time()> now)
    : options_(std::move(options)),
      ledger_(ledger),
      sender_(sender),
      publisher_(publisher),
      observer_(observer),
      now_(std::move(now)) {}

absl::Status Dispatcher::Handle(const messaging::InboundMessage& message) {
  AlertRequested request;
  if (!request.ParseFromString(message.value) || request.header().alert_id().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("message at ", message.topic, "/",
                                                   message.partition, "@", message.offset,
                                                   " is not an AlertRequested with an alert_id"));
  }
  absl::StatusOr<DeliveryOutcome> outcome = Deliver(request);
  if (!outcome.ok()) {
    observer_.OnHandedBack(request, outcome.status());
    return outcome.status();
  }
  return PublishOutcome(request, *outcome);
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Deliver(const AlertRequested& request) {
  const std::string& alert_id = request.header().alert_id();
  const uint32_t attempt = request.header().attempt();
  // Sent earlier by this worker, but the ledger could not take the outcome then: never resend.
  if (std::optional<DeliveryOutcome> sent = Unrecorded(alert_id, attempt)) {
    return Record(alert_id, attempt, *sent);
  }
  const absl::Time now = now_();
  absl::StatusOr<AttemptClaim> claim = ledger_.Claim(alert_id, attempt, options_.worker_id, now);
  if (!claim.ok()) return claim.status();

  switch (claim->state) {
    case AttemptClaim::State::kDone:
      observer_.OnOutcomeRepublished(request);
      return *claim->outcome;
    case AttemptClaim::State::kInProgress:
      if (now - claim->claimed_at < options_.claim_lease) {
        return absl::UnavailableError(absl::StrCat("attempt ", attempt, " of alert ", alert_id,
                                                   " is being sent by another worker"));
      }
      // The lease ran out without an outcome: the worker holding it died while sending.
      return Record(alert_id, attempt,
                    GaveUp("a worker stopped while sending this attempt; whether Twilio "
                           "received it is unknown, so it was not resent"));
    case AttemptClaim::State::kClaimed:
      break;
  }
  const SendResult result = sender_.Send(request);
  observer_.OnSent(request, result, now_() - now);
  if (result.kind == SendResult::Kind::kRetryable) {
    // If the release fails, our own claim stays; claiming it again later is safe (see Claim).
    if (absl::Status released = ledger_.Release(alert_id, attempt, options_.worker_id);
        !released.ok()) {
      return released;
    }
    return absl::UnavailableError(
        absl::StrCat("Twilio did not process the request (", result.reason, ")"));
  }
  return Record(alert_id, attempt,
                result.kind == SendResult::Kind::kUnknown
                    ? GaveUp(absl::StrCat("Twilio's answer was lost (", result.reason,
                                          "); not resent, to avoid a duplicate"))
                    : OutcomeOf(result));
}

absl::StatusOr<DeliveryOutcome> Dispatcher::Record(const std::string& alert_id, uint32_t attempt,
                                                   const DeliveryOutcome& outcome) {
  const std::pair<std::string, uint32_t> key(alert_id, attempt);
  std::lock_guard lock(mutex_);
  if (absl::Status recorded = ledger_.RecordOutcome(alert_id, attempt, outcome); !recorded.ok()) {
    unrecorded_[key] = outcome;
    return absl::UnavailableError(absl::StrCat("the outcome of attempt ", attempt, " of alert ",
                                               alert_id, " could not be recorded (",
                                               recorded.message(), "); it is kept to retry"));
  }
  unrecorded_.erase(key);
  return outcome;
}

std::optional<DeliveryOutcome> Dispatcher::Unrecorded(const std::string& alert_id,
                                                      uint32_t attempt) const {
  std::lock_guard lock(mutex_);
  auto it = unrecorded_.find({alert_id, attempt});
  if (it == unrecorded_.end()) return std::nullopt;
  return it->second;
}

absl::Status Dispatcher::PublishOutcome(const AlertRequested& request,
                                        const DeliveryOutcome& outcome) {
  events::v1::DeliveryEvent event;
  *event.mutable_header() = request.header();
  *event.mutable_header()->mutable_occurred_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now_()));
  *event.mutable_outcome() = outcome;
  absl::Status status = publisher_.Publish({.topic = options_.outcome_topic,
                                            .key = request.header().alert_id(),
                                            .value = event.SerializeAsString()},
                                           options_.publish_timeout);
  if (status.ok()) return status;
  return absl::UnavailableError(absl::StrCat("the outcome of alert ", request.header().alert_id(),
                                             " could not be published: ", status.message()));
}

}  // namespace klaxon::delivery
