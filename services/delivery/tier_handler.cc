#include "services/delivery/tier_handler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

TierHandler::TierHandler(TierHandlerOptions options, messaging::MessageHandler& next,
                         RetryScheduler& scheduler, timing::Clock& clock)
    : options_(std::move(options)), next_(next), scheduler_(scheduler), clock_(clock) {}

bool TierHandler::WaitUntil(absl::Time until) {
  for (absl::Duration left = until - clock_.Now(); left > absl::ZeroDuration();
       left = until - clock_.Now()) {
    if (options_.stop.stop_requested()) return false;
    clock_.SleepFor(std::min(left, options_.wait_slice));
  }
  return true;
}

absl::Status TierHandler::Handle(const messaging::InboundMessage& message) {
  events::v1::AlertRequested request;
  if (!request.ParseFromString(message.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset ", message.offset, " of ", message.topic, " is no AlertRequested"));
  }
  if (request.has_not_before()) {
    const absl::Time not_before = prototime::FromProto(request.not_before());
    // Messages of one tier are due in about the order they arrived, so waiting for this one
    // never holds back one that is due earlier by more than the tier's delay.
    const absl::Time until = std::min(not_before, clock_.Now() + options_.max_wait);
    if (!WaitUntil(until)) return absl::UnavailableError("stopping while waiting on a retry tier");
    if (clock_.Now() < not_before) return scheduler_.Schedule(request, not_before);
  }
  return next_.Handle(message);
}

}  // namespace klaxon::delivery
