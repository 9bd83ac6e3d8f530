#pragma once
// KafkaRetryScheduler: the RetryScheduler that writes a request to its channel's delayed retry
// tier (kafka::kSmsRetryTiers, kVoiceRetryTiers; docs/adr/0007). The tier is the smallest whose
// delay covers the wait; a longer wait goes to the largest tier and hops through it again, since
// a tier consumer waits at most its tier's delay for one message. A critical request goes to its
// channel's urgent tiers, by the same rule (kafka::kSmsUrgentRetryTiers; docs/adr/0027), so it
// never waits behind normal deferrals.

#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/topics.h"
#include "common/messaging/message.h"
#include "common/timing/clock.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/delivery/retry_scheduler.h"

namespace klaxon::delivery {

// The retry tiers of `channel` for requests of `priority` (a critical one's are its channel's
// urgent tiers, kafka::kSmsUrgentRetryTiers), smallest delay first; empty for CHANNEL_UNSPECIFIED.
std::span<const kafka::RetryTier> RetryTiersFor(types::v1::Channel channel,
                                                types::v1::Priority priority);

// The smallest of `tiers` whose delay covers `wait`, or the largest when none does.
// Precondition: `tiers` is not empty.
const kafka::RetryTier& TierFor(std::span<const kafka::RetryTier> tiers, absl::Duration wait);

// The tier `request` waits on for `wait`: TierFor its channel's urgent tiers when it is critical,
// else its channel's tiers; nullptr for a request without a channel.
const kafka::RetryTier* TierForRequest(const events::v1::AlertRequested& request,
                                       absl::Duration wait);

struct KafkaRetrySchedulerOptions {
  std::string topic_prefix = {};  // KLAXON_TOPIC_PREFIX
  absl::Duration publish_timeout = absl::Seconds(10);
};

class KafkaRetryScheduler final : public RetryScheduler {
 public:
  KafkaRetryScheduler(KafkaRetrySchedulerOptions options, messaging::Publisher& publisher,
                      timing::Clock& clock);

  // kInvalidArgument for a request without a channel; else the publisher's status.
  absl::Status Schedule(const events::v1::AlertRequested& request, absl::Time not_before) override;

 private:
  const KafkaRetrySchedulerOptions options_;
  messaging::Publisher& publisher_;
  timing::Clock& clock_;
};

}  // namespace klaxon::delivery
