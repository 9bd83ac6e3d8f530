#pragma once
// The status checks of accepted attempts (docs/adr/0007, "Lost callbacks", and docs/adr/0014):
// Twilio does not retry a status callback that ingress refused, so each accepted attempt is
// checked, status_check_first past its acceptance and then backing off.
// A check first asks the CallbackLedger: once ingress has made a final status of the attempt
// durable, the checks end without reading Twilio. Otherwise Twilio is read when ingress recorded
// that callbacks may have been lost since the acceptance, or once the attempt is
// status_check_after old; a final status read is published to klaxon.twilio.events as the
// callback would have been. The checks end there, or when the alert's deadline plus
// status_check_grace has passed. A check never claims or sends.
//
// With read_charges (docs/adr/0036), once an attempt's final status is known the checks go on
// until Twilio has priced the message or call: the first check reads the resource and publishes
// what Twilio charged as an AttemptCharge on klaxon.twilio.events (audit records it, the observer
// counts it); while Twilio has not priced it, the check is scheduled again with check_charge set.
//
// A check is the attempt's AlertRequested with check_sid set to Twilio's SID and
// header.occurred_at to the acceptance; only this unit makes one (ScheduleFirstCheck) or handles
// one (Handle). Checks wait in the worker's StatusCheckQueue (Redis, docs/adr/0045), whose
// StatusCheckSweeper hands each one here when due. Checks written to the retry tiers before that
// still come back through the Dispatcher, which forwards every message with check_sid set here.
//
// Thread-safe: Handle and ScheduleFirstCheck may run on many threads at once.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/budgets/budget_guard.h"
#include "common/callbacks/callback_ledger.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "services/delivery/sender.h"
#include "services/delivery/status_check_queue.h"

namespace klaxon::delivery {

struct StatusCheckerOptions {
  std::string twilio_events_topic;  // klaxon.twilio.events with the deployment's prefix
  absl::Duration publish_timeout = absl::Seconds(10);
  // The first check of an accepted attempt: long enough for most final callbacks to have
  // arrived, so most attempts need only that one check and no Twilio read. Each later check waits
  // as long as the attempt has been checked already (doubling), at most
  // status_check_max_interval. At most status_check_after.
  absl::Duration status_check_first = absl::Seconds(30);
  // When Twilio is read for an attempt whose final status has not arrived although nothing says
  // a callback was lost (Twilio itself may not have sent it); a check falls due then.
  absl::Duration status_check_after = absl::Minutes(5);
  // The longest wait between two checks of an attempt: a status or price that arrives in the
  // meantime waits at most this long to be read.
  absl::Duration status_check_max_interval = absl::Minutes(5);
  // How long past the alert's deadline an attempt is still checked: a message Twilio queued
  // before the deadline may still be delivered or fail after it.
  absl::Duration status_check_grace = absl::Hours(1);
  // Whether an attempt whose final status is known is read once more for what Twilio charged:
  // one more Twilio read per accepted attempt, the price of knowing what alerts cost.
  bool read_charges = true;
  // How long past the acceptance Twilio is read for a price it has not set: a message or call it
  // never prices (a failed one may stay at none) is not read until the alert's deadline.
  absl::Duration charge_read_for = absl::Minutes(30);
};

// How one status check ended.
enum class StatusCheckResult {
  kFinalArrived,   // ingress has the attempt's final status: no more checks, Twilio not read
  kWaiting,        // no final status, no sign of a lost callback: checked again, Twilio not read
  kFinal,          // Twilio read as final: published as the callback would have been
  kPending,        // Twilio read as not final yet: checked again
  kUnreadable,     // Twilio could not be read: checked again
  kExpired,        // past the deadline and grace: no more checks (the alert may stay SENT)
  kCharged,        // final, and what Twilio charged read and published: no more checks
  kChargePending,  // final, but Twilio has not priced it yet: checked again
};

// A short name for metrics and logs: final_arrived, waiting, final, pending, unreadable, expired,
// charged, charge_pending.
std::string_view StatusCheckResultName(StatusCheckResult result);

// What the status checker reports for metrics and logs.
class StatusCheckObserver {
 public:
  virtual ~StatusCheckObserver() = default;
  // A check read the attempt's message or call from Twilio, found or not, final or not; not a
  // read the in-flight cap or Twilio's own limit refused, nor a charge read (ADR 0036).
  virtual void OnStatusRead(const events::v1::AlertRequested& check) = 0;
  virtual void OnStatusChecked(const events::v1::AlertRequested& check,
                               StatusCheckResult result) = 0;
  // A check published what Twilio charged for the attempt (`charge.account` names the account).
  virtual void OnCharged(const events::v1::AlertRequested& check,
                         const events::v1::AttemptCharge& charge) = 0;
  // The charge could not settle the budgets' reservation (docs/adr/0037): they keep the estimate.
  virtual void OnBudgetUnsettled(const events::v1::AlertRequested& check,
                                 const absl::Status& reason) = 0;
  // A check could not be scheduled again or its status published: it is handed back to be
  // retried.
  virtual void OnHandedBack(const events::v1::AlertRequested& check,
                            const absl::Status& reason) = 0;
};

// Everything the status checker talks to; all borrowed, all must outlive it and be thread-safe.
struct StatusCheckerPorts {
  // What ingress knows of each attempt's status callbacks, asked before Twilio is (ADR 0014).
  callbacks::CallbackLedger& callbacks;
  Sender& sender;  // only its ReadStatus: a check never sends
  messaging::Publisher& publisher;
  StatusCheckQueue& checks;  // where each check waits until due
  StatusCheckObserver& observer;
  timing::Clock& clock;
  // Settled with each charge read (docs/adr/0037); none: no budgets.
  budgets::BudgetGuard* budgets = nullptr;
};

class StatusChecker final : public messaging::MessageHandler {
 public:
  StatusChecker(StatusCheckerOptions options, StatusCheckerPorts ports);

  // Puts the first check of `request`, an attempt Twilio accepted just now as `accepted` says
  // (its SID, its account, the budget reservation its charge settles), in the queue of checks.
  absl::Status ScheduleFirstCheck(const events::v1::AlertRequested& request,
                                  const events::v1::DeliveryOutcome& accepted);

  // Handles one check: ends the checks of an attempt whose final status arrived; else reads
  // Twilio when due, publishing a final status, or schedules the next check. kInvalidArgument for
  // a message that is not a check; kUnavailable when the status could not be published; the
  // RetryScheduler's error when the next check could not be scheduled.
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  // Reads what Twilio charged for `check`'s attempt, whose final status is known: publishes it,
  // or schedules the next charge check while Twilio has not priced the attempt.
  absl::Status ReadCharge(events::v1::AlertRequested check);
  // Schedules `check` at NextCheckAt and reports `result`, or ends the checks (kExpired).
  absl::Status CheckAgain(const events::v1::AlertRequested& check, StatusCheckResult result);
  // Publishes `event` (a status read from Twilio, or a charge) on klaxon.twilio.events under
  // `check`'s header; kUnavailable naming `what` when it could not be.
  absl::Status Publish(const events::v1::AlertRequested& check, events::v1::TwilioEvent event,
                       std::string_view what);
  // When `check` falls due next: past how long it has been checked (backing off), never past
  // status_check_after for a status read; empty once that is past the alert's deadline and grace,
  // or for a charge read past charge_read_for.
  std::optional<absl::Time> NextCheckAt(const events::v1::AlertRequested& check) const;
  // Settles the budgets with what Twilio charged, less what the send reserved. A charge in another
  // currency than the budgets', or a ledger that cannot be written, leaves the estimate (the
  // observer hears why).
  void SettleBudgets(const events::v1::AlertRequested& check,
                     const events::v1::AttemptCharge& charge);
  // Publishes what Twilio charged, then settles the budgets and tells the observer.
  absl::Status PublishCharge(const events::v1::AlertRequested& check,
                             const events::v1::AttemptCharge& charge);

  const StatusCheckerOptions options_;
  const StatusCheckerPorts ports_;
};

// Whether a status read back from Twilio (message_status or call_status) is one Twilio never
// changes again.
bool IsFinalStatus(const events::v1::TwilioEvent& event);

}  // namespace klaxon::delivery
