// sms-worker: sends each alert of klaxon.sms.requests as a Twilio Message, and keeps the
// suppression list from the opt-outs and opt-ins of klaxon.twilio.events.

#include <memory>

#include "common/kafka/topics.h"
#include "services/delivery/redis_suppression_list.h"
#include "services/delivery/worker_main.h"
#include "services/sms-worker/consent_handler.h"
#include "services/sms-worker/twilio_message_sender.h"

namespace {

using klaxon::delivery::WorkerContext;

// The ConsentHandler with the suppression list it writes to.
class Consent final : public klaxon::messaging::MessageHandler {
 public:
  explicit Consent(const WorkerContext& context)
      : suppressions_(context.redis, context.redis_key_prefix, context.redactor),
        handler_(suppressions_, context.transit) {}
  absl::Status Handle(const klaxon::messaging::InboundMessage& message) override {
    return handler_.Handle(message);
  }

 private:
  klaxon::delivery::RedisSuppressionList suppressions_;
  klaxon::sms::ConsentHandler handler_;
};

}  // namespace

int main() {
  using klaxon::delivery::TwilioSettings;
  return klaxon::delivery::RunWorker(
      {.service = "sms-worker",
       .channel = "sms",
       .request_topic = std::string(klaxon::kafka::kSmsRequests),
       .retry_tiers = klaxon::kafka::kSmsRetryTiers,
       .configure =
           [](klaxon::config::Reader&, const TwilioSettings& twilio) {
             return
                 [twilio](klaxon::twilio::TwilioRestClient& client, const WorkerContext& context) {
                   return std::make_unique<klaxon::sms::TwilioMessageSender>(
                       client,
                       klaxon::sms::MessageSenderOptions{
                           .from = twilio.from, .webhook_public_url = twilio.webhook_public_url},
                       context.clock);
                 };
           },
       .extra_consumers =
           [](const WorkerContext& context) {
             std::vector<klaxon::delivery::ExtraConsumer> consumers;
             consumers.push_back({.name = "consent",
                                  .topics = {std::string(klaxon::kafka::kTwilioEvents)},
                                  .handler = std::make_unique<Consent>(context)});
             return consumers;
           }});
}
