#pragma once
// TierHandler: what a retry tier's consumer runs (docs/adr/0007). It holds each request until its
// not_before, then hands it to the same MessageHandler (the Dispatcher) as the request topic. It
// waits at most the tier's delay for one message: a request still not due after that (a wait
// longer than the largest tier) is written back through the RetryScheduler, i.e. it hops.
//
// The wait is cut into slices so that a shutdown does not wait out a 5-minute tier: when `stop`
// fires mid-wait, Handle returns kUnavailable and the consumer leaves the message unstored, to be
// redelivered to whichever worker picks the partition up next.

#include <stop_token>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "services/delivery/retry_scheduler.h"

namespace klaxon::delivery {

struct TierHandlerOptions {
  // The tier's delay (kafka::RetryTier::delay): the longest wait for one message.
  absl::Duration max_wait = absl::ZeroDuration();
  // How often a wait looks at the stop token.
  absl::Duration wait_slice = absl::Milliseconds(200);
  std::stop_token stop = {};
};

class TierHandler final : public messaging::MessageHandler {
 public:
  TierHandler(TierHandlerOptions options, messaging::MessageHandler& next,
              RetryScheduler& scheduler, timing::Clock& clock);

  // kInvalidArgument for a value that is not an AlertRequested; kUnavailable when stopped while
  // waiting; else what `next` or the scheduler returned.
  absl::Status Handle(const messaging::InboundMessage& message) override;

 private:
  // Sleeps until `until` in slices; false when `stop` fired first.
  bool WaitUntil(absl::Time until);

  const TierHandlerOptions options_;
  messaging::MessageHandler& next_;
  RetryScheduler& scheduler_;
  timing::Clock& clock_;
};

}  // namespace klaxon::delivery
