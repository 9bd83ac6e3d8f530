#pragma once
// What ingress tells the workers' status checks about Twilio's status callbacks
// (docs/adr/0014), through the CallbackLedger: each final status it made durable, so no check
// reads that message or call from Twilio, and that callbacks may have been lost (a signed status
// callback refused because Kafka or Redis failed, load shed, or a start after being down), so
// the checks of attempts whose final status has not arrived read Twilio at once.
//
// Noting a loss never waits on Redis: the server's reactor thread notes load it sheds, and Redis
// may be what failed. Flush writes the note, stamped with the time of the write: a loss noted
// while Redis was down is written once it answers, and counts for every attempt accepted before
// then. Run flushes every second, so a loss reaches the checks within about a second.

#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/callbacks/callback_ledger.h"
#include "common/timing/clock.h"
#include "services/ingress/webhook_telemetry.h"

namespace klaxon::ingress {

class CallbackWitness {
 public:
  // All borrowed; they must outlive this.
  CallbackWitness(callbacks::CallbackLedger& ledger, WebhookTelemetry& telemetry,
                  timing::Clock& clock);

  // Kafka acknowledged status callbacks with a final status of each of `sids`: one status each.
  std::vector<absl::Status> RecordFinal(const std::vector<std::string>& sids);
  // Callbacks may have been lost just now. Thread-safe; never blocks on I/O.
  void NoteLoss();
  // Writes a loss noted since the last write, if any; on failure it stays noted for the next.
  absl::Status Flush();
  // Flushes every `interval` until `stop` is requested. For a thread of the main's.
  void Run(std::stop_token stop, absl::Duration interval = absl::Seconds(1));

 private:
  callbacks::CallbackLedger& ledger_;
  WebhookTelemetry& telemetry_;
  timing::Clock& clock_;
  std::mutex mutex_;
  bool unwritten_ = false;  // guarded by mutex_
};

}  // namespace klaxon::ingress
