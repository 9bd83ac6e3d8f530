#include "services/sms-worker/sms_worker_spec.h"

#include <memory>

#include "common/kafka/topics.h"
#include "common/sms_acks/redis_ack_codes.h"
#include "services/delivery/redis_suppression_list.h"
#include "services/delivery/wanted_events.h"
#include "services/delivery/worker_main.h"
#include "services/sms-worker/ack_reply_handler.h"
#include "services/sms-worker/consent_handler.h"
#include "services/sms-worker/twilio_message_sender.h"

namespace {

using klaxon::delivery::WorkerContext;

// What recipients send: the ConsentHandler and the AckReplyHandler with the stores they use, on
// one consumer (its group is still named "consent"), each skipping the other's events.
class RecipientReplies final : public klaxon::messaging::MessageHandler {
 public:
  explicit RecipientReplies(const WorkerContext& context)
      : suppressions_(context.redis, context.redis_key_prefix, context.redactor),
        consent_(suppressions_, context.transit),
        ack_codes_(context.redis, context.redis_key_prefix, context.redactor),
        acks_({.events_topic = context.common.Topic(klaxon::kafka::kDeliveryEvents)}, ack_codes_,
              context.stops, context.publisher, context.transit, context.clock) {}
  absl::Status Handle(const klaxon::messaging::InboundMessage& message) override {
    if (absl::Status consent = consent_.Handle(message); !consent.ok()) return consent;
    return acks_.Handle(message);
  }

 private:
  klaxon::delivery::RedisSuppressionList suppressions_;
  klaxon::sms::ConsentHandler consent_;
  klaxon::sms_acks::RedisAckCodes ack_codes_;
  klaxon::sms::AckReplyHandler acks_;
};

}  // namespace

namespace klaxon::sms {

delivery::WorkerSpec SmsWorkerSpec() {
  using klaxon::delivery::TwilioSettings;
  return {.service = "sms-worker",
          .channel = "sms",
          .request_topic = std::string(klaxon::kafka::kSmsRequests),
          .urgent_request_topic = std::string(klaxon::kafka::kSmsUrgentRequests),
          .retry_tiers = klaxon::kafka::kSmsRetryTiers,
          .urgent_retry_tiers = klaxon::kafka::kSmsUrgentRetryTiers,
          .configure =
              [](klaxon::config::Reader&, const TwilioSettings& twilio) {
                return [twilio](klaxon::twilio::TwilioRestClient& client,
                                const WorkerContext& context) {
                  return std::make_unique<klaxon::sms::TwilioMessageSender>(
                      client,
                      klaxon::sms::MessageSenderOptions{.webhook_public_url =
                                                            twilio.webhook_public_url},
                      context.clock);
                };
              },
          .extra_consumers =
              [](const WorkerContext& context) {
                std::vector<klaxon::delivery::ExtraConsumer> consumers;
                consumers.push_back({.name = "consent",
                                     .topics = {std::string(klaxon::kafka::kTwilioEvents)},
                                     .handler = std::make_unique<RecipientReplies>(context),
                                     .wants = klaxon::delivery::TwilioEventsOf(
                                         {klaxon::sms::ConsentHandler::kActsOn,
                                          klaxon::sms::AckReplyHandler::kActsOn})});
                return consumers;
              }};
}

}  // namespace klaxon::sms
