// CallbackTally: what bench-caller-callbacks' receiver saw of audit's caller callbacks (ADR 0028),
// the signed JSON status changes audit POSTs to a caller's URL. For each change it keeps the delay
// from the change's occurred_at to its receipt; it counts the changes that came again (at least
// once allows a repeat after a failure), those that came out of their alert's order (audit
// promises sequences 1, 2, 3, ... in order), the POSTs whose signature did not verify, and each
// alert's last status. Like DeliveryTally, it joins the alerts the run sent with their callbacks
// whichever comes first; callbacks of other alerts (warm-up probes, earlier runs) are counted
// apart. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/latency_stats.h"
#include "common/http/message.h"

namespace klaxon::bench {

// The AlertStatus name that ends a delivered alert's sequence.
inline constexpr std::string_view kDeliveredStatus = "ALERT_STATUS_DELIVERED";

// The fields of a callback's JSON body the tally uses.
struct CallerCallback {
  std::string alert_id;
  int64_t sequence = 0;  // 1, 2, 3, ... per alert
  std::string status;    // an AlertStatus name, e.g. "ALERT_STATUS_SENT"
  absl::Time occurred_at;
};

// Parses a callback's JSON body; kInvalidArgument naming the field that is missing or wrong.
absl::StatusOr<CallerCallback> ParseCallerCallback(std::string_view body);

struct CallbackSummary {
  int64_t alerts = 0;   // alerts the run sent (their SendAlert succeeded)
  int64_t changes = 0;  // their changes received, each counted once
  // Of those, received within the load window given to Summarize, and that window's length.
  int64_t changes_in_window = 0;
  std::chrono::nanoseconds window{0};
  LatencySummary delay;  // receipt less occurred_at, over each change's first arrival
  // A change whose event id (alert and sequence) had arrived before: allowed, but counted.
  int64_t repeated = 0;
  // A first arrival whose sequence is not one more than the highest its alert had so far: a
  // change skipped (for now) or one that came after a later one. Audit promises none.
  int64_t out_of_order = 0;
  // Alerts whose received sequences are not exactly 1..highest: a change never came.
  int64_t alerts_with_gaps = 0;
  // Alerts by the status of their highest sequence received.
  int64_t last_delivered = 0;
  int64_t last_not_delivered = 0;
  int64_t without_callback = 0;
  ErrorCounts statuses;       // changes by status, each counted once
  ErrorCounts last_statuses;  // alerts by the status of their highest sequence
  // From the end of the load window to the last change received (zero when none came after).
  std::chrono::nanoseconds last_after_window{0};
  // POSTs refused and left out of everything above.
  int64_t signature_failures = 0;
  int64_t malformed = 0;      // signed, but not a POST, not a callback body or the event id differs
  int64_t other_changes = 0;  // arrivals (repeats included) for alerts the run did not send
};

// Changes received per second over the load window.
double WindowRate(const CallbackSummary& summary);

class CallbackTally {
 public:
  // The run's SendAlert for `alert_id` succeeded.
  void Sent(const std::string& alert_id);
  // A verified, parsed callback arrived at `received_at`.
  void Received(const CallerCallback& callback, absl::Time received_at);
  void SignatureFailed();
  void Malformed();

  // Every POST taken so far, whatever became of it; the receiver is idle while this stays put.
  int64_t arrivals() const;
  // Whether any callback for `alert_id` (sent by the run or not) arrived.
  bool HasCallback(const std::string& alert_id) const;

  // `window_start` and `window_end` bound the load (changes_in_window, last_after_window).
  CallbackSummary Summarize(absl::Time window_start, absl::Time window_end) const;

 private:
  struct Change {
    int64_t sequence = 0;
    std::string status;
    absl::Time received_at;
    absl::Duration delay;
  };
  struct Alert {
    bool sent = false;
    std::vector<Change> changes;  // first arrivals, in arrival order
    int64_t highest = 0;          // highest sequence received
    int64_t repeated = 0;
    int64_t out_of_order = 0;
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Alert> alerts_;  // guarded by mutex_
  int64_t arrivals_ = 0;                           // guarded by mutex_
  int64_t signature_failures_ = 0;                 // guarded by mutex_
  int64_t malformed_ = 0;                          // guarded by mutex_
};

// What the receiver does with one request that arrived at `received_at`, after answering it:
// verifies its signature with `secret` (a failure is counted, the body never parsed), parses the
// body, checks Klaxon-Event-Id against it, and records it in `tally`.
void RecordCallbackRequest(const http::Request& request, std::string_view secret,
                           absl::Time received_at, CallbackTally& tally);

}  // namespace klaxon::bench
