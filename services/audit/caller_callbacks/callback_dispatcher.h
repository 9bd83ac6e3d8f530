#pragma once
// Caller callbacks (ADR 0028): drains the outbox of status changes, POSTing each as a signed JSON
// event to its caller's URL. At least once, in order per alert (the outbox hands out only an
// alert's lowest pending change, and the next only once that one is settled), retried with
// jittered exponential backoff (never sooner than the answer's Retry-After, honoured up to
// `max_retry`) until `give_up_after` from the change, with a last try at that moment when a wait
// would pass it, then dead-lettered. Each POST is counted by its result when it ends; a delivery's
// delay and a dead letter only once the outbox has recorded them, and a settlement the outbox did
// not apply because the callback's lease ran out and another claim took it is counted lease_lost.
//
// One thread claims, another settles in batches (a settle the outbox leaves because audit's ingest
// is writing its alerts is retried with the next batch; claims and POSTs go on). At most
// `concurrency` POSTs run at once on the executor, so the thread count is fixed and a claim takes
// only as many callbacks as there are free slots. A caller holding half the slots or more is served
// last: it gets only the slots no other caller's due callbacks want, so a caller whose endpoint
// times out leaves the other half to the others (softly: one claim may take it past half).

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/log/log.h"
#include "common/timing/clock.h"
#include "services/audit/caller_callbacks/callback_metrics.h"
#include "services/audit/caller_callbacks/callback_outbox.h"
#include "services/audit/caller_callbacks/callback_poster.h"
#include "services/audit/caller_callbacks/subscriptions.h"

namespace klaxon::audit {

struct CallbackDispatcherOptions {
  size_t concurrency = 32;                         // POSTs in flight at most
  absl::Duration timeout = absl::Seconds(10);      // one POST, connect included
  absl::Duration give_up_after = absl::Hours(24);  // from the change being stored
  absl::Duration first_retry = absl::Seconds(1);   // the wait after the first failure, at most
  absl::Duration max_retry = absl::Hours(1);       // no wait is longer, whatever Retry-After says
  absl::Duration poll = absl::Milliseconds(50);    // how often an idle dispatcher looks for work
  absl::Duration settle_wait = absl::Milliseconds(10);  // for more POSTs to end before a settle
  absl::Duration lease_margin = absl::Seconds(30);      // a claim's lease beyond the POST's timeout
  absl::Duration pending_refresh = absl::Seconds(5);    // the pending gauges' refresh
};

// The JSON event POSTed for `callback`: alert_id, sequence, caller, channel, status, attempt,
// error_code, reason and occurred_at (RFC 3339, UTC, microseconds). No personal data.
std::string CallbackBody(const PendingCallback& callback);

class CallbackDispatcher {
 public:
  // Runs a task on another thread (concurrency::BlockingExecutor in production, inline in tests).
  using Executor = std::function<void(std::function<void()>)>;

  // Everything is borrowed and must outlive the dispatcher. `uniform` returns a number in [0, 1)
  // (the backoff's jitter); it is called from the settling thread only.
  CallbackDispatcher(CallbackOutbox& outbox, CallbackPoster& poster,
                     const CallbackSubscriptions& subscriptions, timing::Clock& clock,
                     CallbackMetrics& metrics, const log::Logger& logger, Executor executor,
                     std::function<double()> uniform, CallbackDispatcherOptions options);

  // Settles what finished, then claims and starts as many due callbacks as there are free
  // slots, on the calling thread; never while Run runs. Returns false when it neither settled
  // nor claimed anything (nothing to do now).
  bool Step();

  // Until `stop`: claims on this thread, again after a quarter of the slots came free, a settle,
  // or `poll`, and settles on a second thread as POSTs end; then waits for the POSTs in flight and
  // settles them.
  void Run(std::stop_token stop);

 private:
  struct Finished {
    PendingCallback callback;
    CallbackAnswer answer;
    absl::Time answered_at;
  };

  // Settles the POSTs that finished and those left busy before, in one write; how many it
  // is done with, recorded or found to have lost their lease (none when the write failed).
  size_t SettleFinished();
  // Claims and starts as many due callbacks as there are free slots; how many it started.
  size_t ClaimDue();
  // Leases at most `limit` due callbacks, `last`'s only where the others leave room; none when
  // the outbox fails (logged once a minute while it does).
  std::vector<PendingCallback> Claim(size_t limit, const std::vector<std::string>& last);
  void Start(PendingCallback callback);
  // A POST ended: frees its slot and queues it to be settled.
  void Finish(Finished finished);
  // What a finished POST settles, and what to report once the settlement is recorded.
  struct Decision {
    CallbackSettlement settlement;
    std::string caller;
    CallbackResult result = CallbackResult::kDelivered;  // of the POST
    absl::Duration delay;                                // kDelivered: from the change to the 2xx
  };
  Decision Decide(const Finished& finished);
  // A settlement recorded: a delivery's delay, or a dead letter.
  void Report(const Decision& decision);
  // A settlement the outbox did not apply because another claim holds the callback now: neither
  // a delivery nor a dead letter is reported, the newer claim's settlement will be.
  void ReportLeaseLost(const Decision& decision);
  absl::Duration Backoff(uint32_t attempts, const CallbackAnswer& answer);
  void RefreshPending();

  CallbackOutbox& outbox_;
  CallbackPoster& poster_;
  const CallbackSubscriptions& subscriptions_;
  timing::Clock& clock_;
  CallbackMetrics& metrics_;
  const log::Logger& logger_;
  const Executor executor_;
  const std::function<double()> uniform_;
  const CallbackDispatcherOptions options_;
  absl::Time pending_refreshed_at_ = absl::InfinitePast();
  absl::Time claim_failure_logged_at_ = absl::InfinitePast();  // while claims fail

  std::mutex mutex_;
  // Signalled when a POST ends (ended_ counts one more) or a settle recorded some (settles_).
  std::condition_variable_any progress_signal_;
  uint64_t ended_ = 0;                                              // guarded by mutex_
  uint64_t settles_ = 0;                                            // guarded by mutex_
  size_t in_flight_ = 0;                                            // POSTs; guarded by mutex_
  std::map<std::string, size_t, std::less<>> in_flight_by_caller_;  // guarded by mutex_
  std::vector<Finished> finished_;  // ended, not yet settled; guarded by mutex_
  // Decided, left by the outbox while their alerts were being written; the settling thread's.
  std::vector<Decision> busy_;
};

}  // namespace klaxon::audit
