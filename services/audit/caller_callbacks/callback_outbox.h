#pragma once
// The port between the caller-callback dispatcher and the outbox it drains (ADR 0028).
// PostgresCallbackOutbox is the adapter; the rows are written by AlertStore::Write in the
// transaction that stores the status change, so a change is never lost between the two.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

// A status change waiting to be POSTed to its caller.
struct PendingCallback {
  StatusChange change{};
  uint32_t sequence = 0;  // 1, 2, ... per alert, in the order the changes were stored
  uint32_t attempts = 0;  // POSTs started, the one this claim is for included
  absl::Time stored_at{};

  friend bool operator==(const PendingCallback&, const PendingCallback&) = default;
};

enum class CallbackFate {
  kDelivered,     // the caller answered 2xx
  kRetry,         // try again at next_attempt_at
  kDeadLettered,  // given up: kept, no longer sent, and no longer holding back later changes
};

struct CallbackSettlement {
  std::string alert_id{};
  uint32_t sequence = 0;
  // The claim's PendingCallback::attempts, which identifies its lease: a settlement whose claim
  // was since leased again (its lease ran out) changes nothing, so a late answer never overrides a
  // newer claim's (SettlementOutcome::kLeaseLost).
  uint32_t attempts = 0;
  CallbackFate fate = CallbackFate::kDelivered;
  absl::Time next_attempt_at{};  // kRetry only
  std::string error{};           // why the last POST failed; empty when delivered

  friend bool operator==(const CallbackSettlement&, const CallbackSettlement&) = default;
};

// What Settle did with one settlement.
enum class SettlementOutcome {
  kRecorded,   // applied: a delivered or dead-lettered callback made its alert's next change due
  kBusy,       // left, its alert being written: settle it again soon (its lease still holds)
  kLeaseLost,  // not applied: the callback was claimed again since (its lease had run out) or is
               // settled already; the newer claim's settlement decides what becomes of it
};

struct PendingCallbacks {
  int64_t count = 0;
  absl::Time oldest_stored_at = absl::InfiniteFuture();  // when count is 0
};

class CallbackOutbox {
 public:
  virtual ~CallbackOutbox() = default;

  // Leases at most `limit` callbacks due at `now`, each the lowest pending sequence of its alert
  // (a later change is never claimed while an earlier one is pending), oldest due first, until
  // `lease_until`: no other claim returns them before then, and after it (the claimer died, or
  // never settled) they are due again. Counts the attempt. `last_callers`' callbacks are claimed
  // only when the other callers' due ones leave room, whatever their age. kUnavailable when
  // unreachable.
  virtual absl::StatusOr<std::vector<PendingCallback>> Claim(
      size_t limit, absl::Time now, absl::Time lease_until,
      const std::vector<std::string>& last_callers) = 0;

  // Records what became of claimed callbacks, in one write, each only while its claim still holds
  // the callback (same attempts, still pending); a callback delivered or dead-lettered makes its
  // alert's next change due. Never waits for a writer of the same alerts: leaves those (kBusy).
  // Returns one outcome per settlement, in their order.
  virtual absl::StatusOr<std::vector<SettlementOutcome>> Settle(
      const std::vector<CallbackSettlement>& settlements) = 0;

  // How many callbacks are pending (not delivered, not dead-lettered) and the oldest one's
  // stored_at.
  virtual absl::StatusOr<PendingCallbacks> Pending() = 0;
};

}  // namespace klaxon::audit
