#include "services/delivery/status_checker.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/prototime/prototime.h"
#include "common/twilio/statuses.h"
#include "services/delivery/alert_request.h"

namespace klaxon::delivery {

using events::v1::AlertRequested;
using prototime::FromProto;
using prototime::ToProto;

namespace {

// Twilio may send a callback before its answer to the create reaches the worker, which stamps the
// acceptance, and ingress's clock may be a little off the worker's: a loss recorded this long
// before the acceptance may still be one of the attempt's callbacks.
constexpr absl::Duration kLossBeforeAcceptance = absl::Seconds(5);

// Whether a read that ended with `status` was made and processed by Twilio, so counts as a read
// (Sender::ReadStatus says which errors mean it was not).
bool ReachedTwilio(const absl::Status& status) {
  return !absl::IsResourceExhausted(status) && !absl::IsFailedPrecondition(status);
}

}  // namespace

bool IsFinalStatus(const events::v1::TwilioEvent& event) {
  switch (event.body_case()) {
    case events::v1::TwilioEvent::kMessageStatus:
      return twilio::IsFinalMessageStatus(event.message_status().message_status());
    case events::v1::TwilioEvent::kCallStatus:
      return twilio::IsFinalCallStatus(event.call_status().call_status());
    default:
      return false;
  }
}

std::string_view StatusCheckResultName(StatusCheckResult result) {
  switch (result) {
    case StatusCheckResult::kFinalArrived:
      return "final_arrived";
    case StatusCheckResult::kWaiting:
      return "waiting";
    case StatusCheckResult::kFinal:
      return "final";
    case StatusCheckResult::kPending:
      return "pending";
    case StatusCheckResult::kUnreadable:
      return "unreadable";
    case StatusCheckResult::kExpired:
      return "expired";
    case StatusCheckResult::kCharged:
      return "charged";
    case StatusCheckResult::kChargePending:
      return "charge_pending";
  }
  return "unknown";
}

StatusChecker::StatusChecker(StatusCheckerOptions options, StatusCheckerPorts ports)
    : options_(std::move(options)), ports_(ports) {}

absl::Status StatusChecker::ScheduleFirstCheck(const AlertRequested& request,
                                               const events::v1::DeliveryOutcome& accepted) {
  const absl::Time now = ports_.clock.Now();
  AlertRequested check = request;
  check.set_check_sid(accepted.twilio_sid());
  check.set_check_account(accepted.twilio_account());
  check.set_budget_reserved_micros(accepted.budget_reserved_micros());
  if (accepted.has_budget_reserved_at()) {
    *check.mutable_budget_reserved_at() = accepted.budget_reserved_at();
  }
  check.clear_deferred_by();
  check.clear_throttled();
  *check.mutable_header()->mutable_occurred_at() = ToProto(now);
  return ports_.checks.ScheduleFirst(check, now + options_.status_check_first);
}

absl::Status StatusChecker::Handle(const messaging::InboundMessage& message) {
  AlertRequested check;
  if (!check.ParseFromString(message.value) || check.header().alert_id().empty() ||
      check.check_sid().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message at ", message.topic, "/", message.partition, "@", message.offset,
        " is not a status check (an AlertRequested with an alert_id and a check_sid)"));
  }
  if (check.check_charge()) return ReadCharge(std::move(check));
  const absl::Time accepted = FromProto(check.header().occurred_at());
  // Unreadable (Redis down), the ledger proves nothing either way: Twilio is read once the
  // attempt is status_check_after old, as without any sign of a loss.
  const absl::StatusOr<callbacks::CallbackRecord> record = ports_.callbacks.Read(check.check_sid());
  if (record.ok() && record->final_arrived) {
    if (options_.read_charges) return ReadCharge(std::move(check));
    ports_.observer.OnStatusChecked(check, StatusCheckResult::kFinalArrived);
    return absl::OkStatus();
  }
  const bool lost_since_accepted = record.ok() && record->lost_at.has_value() &&
                                   *record->lost_at >= accepted - kLossBeforeAcceptance;
  if (!lost_since_accepted && ports_.clock.Now() - accepted < options_.status_check_after) {
    return CheckAgain(check, StatusCheckResult::kWaiting);
  }
  absl::StatusOr<StatusReadBack> read = ports_.sender.ReadStatus(check, check.check_sid());
  if (ReachedTwilio(read.status())) ports_.observer.OnStatusRead(check);
  if (!read.ok()) return CheckAgain(check, StatusCheckResult::kUnreadable);
  if (!IsFinalStatus(read->status)) return CheckAgain(check, StatusCheckResult::kPending);

  events::v1::TwilioEvent& status = read->status;
  const std::string& word = status.has_message_status() ? status.message_status().message_status()
                                                        : status.call_status().call_status();
  status.set_dedupe_key(absl::StrCat("check:", check.check_sid(), ":", word));
  if (absl::Status published = Publish(check, std::move(status), "status"); !published.ok()) {
    return published;
  }
  if (options_.read_charges && read->charge) {
    if (absl::Status published = PublishCharge(check, *read->charge); !published.ok()) {
      return published;
    }
  } else if (options_.read_charges) {
    // Final before Twilio priced it: the charge is read by a later check.
    check.set_check_charge(true);
    if (const std::optional<absl::Time> next = NextCheckAt(check)) {
      if (absl::Status scheduled = ports_.checks.Schedule(check, *next); !scheduled.ok()) {
        ports_.observer.OnHandedBack(check, scheduled);
        return scheduled;
      }
    }
  }
  ports_.observer.OnStatusChecked(check, StatusCheckResult::kFinal);
  return absl::OkStatus();
}

absl::Status StatusChecker::ReadCharge(AlertRequested check) {
  check.set_check_charge(true);
  const absl::StatusOr<StatusReadBack> read = ports_.sender.ReadStatus(check, check.check_sid());
  if (!read.ok()) return CheckAgain(check, StatusCheckResult::kUnreadable);
  if (!read->charge) return CheckAgain(check, StatusCheckResult::kChargePending);
  if (absl::Status published = PublishCharge(check, *read->charge); !published.ok()) {
    return published;
  }
  ports_.observer.OnStatusChecked(check, StatusCheckResult::kCharged);
  return absl::OkStatus();
}

std::optional<absl::Time> StatusChecker::NextCheckAt(const AlertRequested& check) const {
  const absl::Time now = ports_.clock.Now();
  const absl::Time accepted = FromProto(check.header().occurred_at());
  // An alert without a deadline is checked as long as the longest one SendAlert allows.
  absl::Time stop_at = std::min(DeadlineOf(check), accepted + alert_lifetime::kMaxTimeToLive) +
                       options_.status_check_grace;
  if (check.check_charge()) stop_at = std::min(stop_at, accepted + options_.charge_read_for);
  absl::Time next = now + std::clamp(now - accepted, options_.status_check_first,
                                     options_.status_check_max_interval);
  // The read that needs no evidence of a loss is never put off past status_check_after.
  if (!check.check_charge() && now < accepted + options_.status_check_after) {
    next = std::min(next, accepted + options_.status_check_after);
  }
  if (next > stop_at) return std::nullopt;
  return next;
}

absl::Status StatusChecker::CheckAgain(const AlertRequested& check, StatusCheckResult result) {
  const std::optional<absl::Time> next = NextCheckAt(check);
  if (!next) {
    ports_.observer.OnStatusChecked(check, StatusCheckResult::kExpired);
    return absl::OkStatus();
  }
  if (absl::Status scheduled = ports_.checks.Schedule(check, *next); !scheduled.ok()) {
    ports_.observer.OnHandedBack(check, scheduled);
    return scheduled;
  }
  ports_.observer.OnStatusChecked(check, result);
  return absl::OkStatus();
}

absl::Status StatusChecker::PublishCharge(const AlertRequested& check,
                                          const events::v1::AttemptCharge& charge) {
  events::v1::TwilioEvent event;
  events::v1::AttemptCharge& published = *event.mutable_charge();
  published = charge;
  if (published.account().empty()) published.set_account(check.check_account());
  event.set_dedupe_key(absl::StrCat("charge:", check.check_sid()));
  const events::v1::AttemptCharge counted = published;
  if (absl::Status done = Publish(check, std::move(event), "charge"); !done.ok()) return done;
  if (ports_.budgets != nullptr) SettleBudgets(check, counted);
  ports_.observer.OnCharged(check, counted);  // after the budgets, so a metric read sees both
  return absl::OkStatus();
}

void StatusChecker::SettleBudgets(const AlertRequested& check,
                                  const events::v1::AttemptCharge& charge) {
  if (charge.currency() != ports_.budgets->settings().currency()) {
    ports_.observer.OnBudgetUnsettled(
        check, absl::FailedPreconditionError(absl::StrCat("Twilio charged in ", charge.currency(),
                                                          ", the budgets are in ",
                                                          ports_.budgets->settings().currency())));
    return;
  }
  const absl::Time reserved_at =
      check.has_budget_reserved_at() ? FromProto(check.budget_reserved_at()) : ports_.clock.Now();
  if (absl::Status counted = ports_.budgets->CountCharge(
          check.header().caller(), charge.account(),
          charge.amount_micros() - check.budget_reserved_micros(), reserved_at, check.check_sid());
      !counted.ok()) {
    ports_.observer.OnBudgetUnsettled(check, counted);
  }
}

absl::Status StatusChecker::Publish(const AlertRequested& check, events::v1::TwilioEvent event,
                                    std::string_view what) {
  *event.mutable_header() = check.header();
  *event.mutable_header()->mutable_occurred_at() = ToProto(ports_.clock.Now());
  if (absl::Status published = ports_.publisher.Publish({.topic = options_.twilio_events_topic,
                                                         .key = check.header().alert_id(),
                                                         .value = event.SerializeAsString()},
                                                        options_.publish_timeout);
      !published.ok()) {
    ports_.observer.OnHandedBack(check, published);
    return absl::UnavailableError(absl::StrCat("the ", std::string(what), " of ",
                                               AttemptName(check),
                                               " could not be published: ", published.message()));
  }
  return absl::OkStatus();
}

}  // namespace klaxon::delivery
