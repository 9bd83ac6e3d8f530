#include "services/delivery/tier_handler.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka/request_topics.h"
#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

std::map<std::string, std::string> TierConsumerProperties(absl::Duration tier_delay) {
  return {
      {"max.poll.interval.ms",
       absl::StrCat(absl::ToInt64Milliseconds(tier_delay + absl::Minutes(5)))},
      {"partition.assignment.strategy", "cooperative-sticky"},
  };
}

TierHandler::TierHandler(TierHandlerOptions options, TierHandlerPorts ports)
    : options_(std::move(options)), ports_(ports) {}

void TierHandler::Handle(const messaging::InboundMessage& message, messaging::HandleDone done) {
  auto request = std::make_shared<events::v1::AlertRequested>();
  if (!request->ParseFromString(message.value)) {
    std::move(done)(absl::InvalidArgumentError(
        absl::StrCat("offset ", message.offset, " of ", message.topic, " is no AlertRequested")));
    return;
  }
  const absl::Time now = ports_.clock.Now();
  if (!request->has_not_before() || prototime::FromProto(request->not_before()) <= now) {
    HandleDue(message, std::move(request), std::move(done));
    return;
  }
  // Held for at most the tier's delay; a message due later than that hops when it ends.
  const absl::Time until =
      std::min(prototime::FromProto(request->not_before()), now + options_.max_wait);
  auto hold = std::make_shared<Hold>(Hold::Pending{std::move(done), std::move(request)});
  // Given back at once when the consumer gives the message up (its partition revoked), so a
  // rebalance never waits out a hold. The callback may run under the consumer's lock, so it only
  // queues the completion on the timers.
  hold->on_given_up.emplace(message.given_up, [this, held = std::weak_ptr<Hold>(hold)] {
    ports_.timers.At(absl::InfinitePast(), [held](bool) {
      if (const std::shared_ptr<Hold> still_held = held.lock()) {
        still_held->End(absl::UnavailableError("given up while waiting on a retry tier"));
      }
    });
  });
  ports_.timers.At(until, [this, &message, hold = std::move(hold)](bool due) {
    // Here, not where the timers free this task, which may be under their lock, where waiting for
    // a running callback, itself waiting for that lock, would deadlock.
    hold->on_given_up.reset();
    if (!due) {
      hold->End(absl::UnavailableError("stopping while waiting on a retry tier"));
      return;
    }
    // `message` is valid only while the completion has not been called: read it only with it.
    if (std::optional<Hold::Pending> pending = hold->Take()) {
      HandleDue(message, std::move(pending->request), std::move(pending->done));
    }
  });
}

std::optional<TierHandler::Hold::Pending> TierHandler::Hold::Take() {
  std::lock_guard lock(mutex);
  std::optional<Pending> taken = std::move(pending);
  pending.reset();
  return taken;
}

void TierHandler::Hold::End(absl::Status status) {
  if (std::optional<Pending> taken = Take()) std::move(taken->done)(std::move(status));
}

void TierHandler::HandleDue(const messaging::InboundMessage& message,
                            std::shared_ptr<const events::v1::AlertRequested> request,
                            messaging::HandleDone done) {
  // The executor takes copyable tasks; the completion is move-only, so the task shares it.
  auto pending = std::make_shared<messaging::HandleDone>(std::move(done));
  concurrency::BlockingExecutor& pool =
      kafka::Urgent(request->priority()) ? ports_.urgent_pool : ports_.pool;
  pool.Submit([this, &message, request = std::move(request), pending] {
    if (request->has_not_before()) {
      const absl::Time not_before = prototime::FromProto(request->not_before());
      if (ports_.clock.Now() < not_before) {
        std::move (*pending)(ports_.scheduler.Schedule(*request, not_before));
        return;
      }
    }
    std::move (*pending)(ports_.next.Handle(message));
  });
}

}  // namespace klaxon::delivery
