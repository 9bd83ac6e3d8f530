#pragma once
// TierHandler: what a retry tier's consumer runs (docs/adr/0007). It holds each request until its
// not_before, then hands it to the same MessageHandler (the Dispatcher) as the request topic. It
// holds one message for at most the tier's delay: a request still not due after that (a wait
// longer than the largest tier) is written back through the RetryScheduler, i.e. it hops.
//
// A held message costs a timer, not a thread (ADR 0017): the wait runs on `timers`, and only the
// work once it is due, which blocks (Twilio, Redis, a Kafka acknowledgement), runs on `pool`,
// which every tier of a worker shares; a critical request's on `urgent_pool` (docs/adr/0027), so
// it never queues behind the normal deferrals that come due with it. When the timers stop (the
// worker is shutting down), or the consumer gives the message up (InboundMessage::given_up: its
// partition revoked in a rebalance), a held message completes with kUnavailable at once, and the
// consumer leaves it unstored, to be redelivered to whichever worker picks the partition up next.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "absl/time/time.h"
#include "common/concurrency/blocking_executor.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "common/timing/timers.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/retry_scheduler.h"

namespace klaxon::delivery {

// The librdkafka properties of the consumer a TierHandler runs under, for a tier whose messages
// are held up to `tier_delay`:
// - max.poll.interval.ms outlasts that wait plus the dispatcher's own work (Twilio's timeout,
//   publishing): a consumer whose messages in flight are all held stops polling meanwhile, and the
//   group would otherwise evict it mid-wait and redeliver its messages elsewhere.
// - cooperative-sticky assignment (KIP-429): a rebalance revokes only the partitions that move to
//   another member, so a member joining or leaving (every rolling update) gives back only those
//   partitions' held messages, not every held message of the group (docs/adr/0027).
std::map<std::string, std::string> TierConsumerProperties(absl::Duration tier_delay);

struct TierHandlerOptions {
  // The tier's delay (kafka::RetryTier::delay): the longest wait for one message.
  absl::Duration max_wait = absl::ZeroDuration();
};

struct TierHandlerPorts {
  messaging::MessageHandler& next;  // the Dispatcher; must be thread-safe
  RetryScheduler& scheduler;
  concurrency::BlockingExecutor& pool;  // runs `next` and the hops; its queue must not refuse
  concurrency::BlockingExecutor& urgent_pool;  // the same for critical requests
  timing::Timers& timers;
  timing::Clock& clock;
};

class TierHandler final : public messaging::AsyncMessageHandler {
 public:
  TierHandler(TierHandlerOptions options, TierHandlerPorts ports);

  // Completes with kInvalidArgument for a value that is not an AlertRequested; kUnavailable when
  // the timers stopped while it waited; else what `next` or the scheduler returned.
  void Handle(const messaging::InboundMessage& message, messaging::HandleDone done) override;

 private:
  // A held message's completion, called once by whichever comes first: its time, the timers
  // stopping, or the consumer giving it up. Its timer cannot be cancelled, so what a given-up
  // message's timer still holds is the Hold, emptied: the request goes with the completion.
  struct Hold {
    struct Pending {
      messaging::HandleDone done;
      std::shared_ptr<const events::v1::AlertRequested> request;
    };
    explicit Hold(Pending held) : pending(std::move(held)) {}
    // The completion and its request, unless they were taken already.
    std::optional<Pending> Take();
    // Completes with `status`, unless the completion was taken already.
    void End(absl::Status status);

    std::mutex mutex;
    std::optional<Pending> pending;  // guarded by mutex
    std::optional<std::stop_callback<std::function<void()>>> on_given_up;
  };

  // On the pool: hops when `not_before` is still ahead, else hands the message to `next`.
  void HandleDue(const messaging::InboundMessage& message,
                 std::shared_ptr<const events::v1::AlertRequested> request,
                 messaging::HandleDone done);

  const TierHandlerOptions options_;
  TierHandlerPorts ports_;
};

}  // namespace klaxon::delivery
