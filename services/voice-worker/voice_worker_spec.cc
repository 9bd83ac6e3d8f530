#include "services/voice-worker/voice_worker_spec.h"

#include <memory>

#include "common/kafka/topics.h"
#include "services/delivery/wanted_events.h"
#include "services/delivery/worker_main.h"
#include "services/voice-worker/escalation_handler.h"
#include "services/voice-worker/escalation_sender.h"
#include "services/voice-worker/redis_escalation_store.h"
#include "services/voice-worker/twilio_call_sender.h"

namespace {

using klaxon::delivery::WorkerContext;

// The Twilio call sender behind an EscalationSender, with the state it writes to.
class VoiceSender final : public klaxon::delivery::Sender {
 public:
  VoiceSender(klaxon::twilio::TwilioRestClient& client, klaxon::voice::CallSenderOptions options,
              const WorkerContext& context)
      : calls_(client, std::move(options)),
        store_(context.redis, context.redis_key_prefix),
        recipients_(context.redis, context.redis_key_prefix, context.redactor),
        sender_(calls_, store_, recipients_, context.clock) {}
  klaxon::delivery::SendResult Send(const klaxon::events::v1::AlertRequested& request,
                                    const klaxon::transit::AlertPersonalData& personal,
                                    const klaxon::delivery::PacedSender& from) override {
    return sender_.Send(request, personal, from);
  }
  klaxon::delivery::SendResult Settle(const klaxon::events::v1::AlertRequested& request,
                                      const klaxon::transit::AlertPersonalData& personal,
                                      absl::Time sent_at) override {
    return sender_.Settle(request, personal, sent_at);
  }
  absl::StatusOr<klaxon::delivery::StatusReadBack> ReadStatus(
      const klaxon::events::v1::AlertRequested& request, const std::string& sid) override {
    return sender_.ReadStatus(request, sid);
  }

 private:
  klaxon::voice::TwilioCallSender calls_;
  klaxon::voice::RedisEscalationStore store_;
  klaxon::voice::RedisRecipientAlerts recipients_;
  klaxon::voice::EscalationSender sender_;
};

// The EscalationHandler with the state it reads and writes.
class Escalation final : public klaxon::messaging::MessageHandler {
 public:
  explicit Escalation(const WorkerContext& context)
      : store_(context.redis, context.redis_key_prefix),
        recipients_(context.redis, context.redis_key_prefix, context.redactor),
        handler_(
            {.outcome_topic = context.common.Topic(klaxon::kafka::kDeliveryEvents),
             .sms_request_topic = context.common.Topic(klaxon::kafka::kSmsRequests),
             .sms_urgent_request_topic = context.common.Topic(klaxon::kafka::kSmsUrgentRequests)},
            {.store = store_,
             .recipients = recipients_,
             .stopped = context.stops,
             .scheduler = context.retries,
             .publisher = context.publisher,
             .clock = context.clock,
             .transit = context.transit}) {}
  absl::Status Handle(const klaxon::messaging::InboundMessage& message) override {
    return handler_.Handle(message);
  }

 private:
  klaxon::voice::RedisEscalationStore store_;
  klaxon::voice::RedisRecipientAlerts recipients_;
  klaxon::voice::EscalationHandler handler_;
};

}  // namespace

namespace klaxon::voice {

delivery::WorkerSpec VoiceWorkerSpec() {
  using klaxon::delivery::TwilioSettings;
  return {.service = "voice-worker",
          .channel = "voice",
          .request_topic = std::string(klaxon::kafka::kVoiceRequests),
          .urgent_request_topic = std::string(klaxon::kafka::kVoiceUrgentRequests),
          .retry_tiers = klaxon::kafka::kVoiceRetryTiers,
          .urgent_retry_tiers = klaxon::kafka::kVoiceUrgentRetryTiers,
          .configure =
              [](klaxon::config::Reader& reader, const TwilioSettings& twilio) {
                klaxon::voice::CallSenderOptions options{
                    .webhook_public_url = twilio.webhook_public_url,
                    .voice = reader.Optional("KLAXON_VOICE_NAME", "alice"),
                    .language = reader.Optional("KLAXON_VOICE_LANGUAGE", "en-US")};
                return [options](klaxon::twilio::TwilioRestClient& client,
                                 const WorkerContext& context) {
                  return std::make_unique<VoiceSender>(client, options, context);
                };
              },
          .extra_consumers =
              [](const WorkerContext& context) {
                std::vector<klaxon::delivery::ExtraConsumer> consumers;
                consumers.push_back({.name = "escalation",
                                     .topics = {std::string(klaxon::kafka::kTwilioEvents)},
                                     .handler = std::make_unique<Escalation>(context),
                                     .wants = klaxon::delivery::TwilioEventsOf(
                                         {klaxon::voice::EscalationHandler::kActsOn})});
                return consumers;
              }};
}

}  // namespace klaxon::voice
