#include "services/delivery/kafka_retry_scheduler.h"

#include "absl/strings/str_cat.h"
#include "common/kafka/request_topics.h"
#include "common/prototime/prototime.h"

namespace klaxon::delivery {

std::span<const kafka::RetryTier> RetryTiersFor(types::v1::Channel channel,
                                                types::v1::Priority priority) {
  const bool urgent = kafka::Urgent(priority);
  switch (channel) {
    case types::v1::CHANNEL_SMS:
      return urgent ? std::span<const kafka::RetryTier>(kafka::kSmsUrgentRetryTiers)
                    : std::span<const kafka::RetryTier>(kafka::kSmsRetryTiers);
    case types::v1::CHANNEL_VOICE:
      return urgent ? std::span<const kafka::RetryTier>(kafka::kVoiceUrgentRetryTiers)
                    : std::span<const kafka::RetryTier>(kafka::kVoiceRetryTiers);
    default:
      return {};
  }
}

const kafka::RetryTier& TierFor(std::span<const kafka::RetryTier> tiers, absl::Duration wait) {
  for (const kafka::RetryTier& tier : tiers) {
    if (tier.delay >= wait) return tier;
  }
  return tiers.back();
}

const kafka::RetryTier* TierForRequest(const events::v1::AlertRequested& request,
                                       absl::Duration wait) {
  const std::span<const kafka::RetryTier> tiers =
      RetryTiersFor(request.header().channel(), request.priority());
  if (tiers.empty()) return nullptr;
  return &TierFor(tiers, wait);
}

KafkaRetryScheduler::KafkaRetryScheduler(KafkaRetrySchedulerOptions options,
                                         messaging::Publisher& publisher, timing::Clock& clock)
    : options_(std::move(options)), publisher_(publisher), clock_(clock) {}

absl::Status KafkaRetryScheduler::Schedule(const events::v1::AlertRequested& request,
                                           absl::Time not_before) {
  const kafka::RetryTier* tier = TierForRequest(request, not_before - clock_.Now());
  if (tier == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert ", request.header().alert_id(), " has no channel to retry on"));
  }
  events::v1::AlertRequested scheduled = request;
  *scheduled.mutable_not_before() = prototime::ToProto(not_before);
  const std::string topic = absl::StrCat(options_.topic_prefix,
                                         absl::string_view(tier->topic.data(), tier->topic.size()));
  absl::Status published = publisher_.Publish(
      {.topic = topic, .key = request.header().alert_id(), .value = scheduled.SerializeAsString()},
      options_.publish_timeout);
  // A missing tier is a deployment step not taken (workers newer than the topics), not a broken
  // message: retryable, so the request is kept until the topic exists rather than skipped.
  if (absl::IsNotFound(published)) {
    return absl::UnavailableError(absl::StrCat(
        "retry tier ", topic,
        " does not exist; create it with `klaxon-admin create-topics`: ", published.message()));
  }
  return published;
}

}  // namespace klaxon::delivery
