// voice-worker: places a Twilio Call that reads out each alert of klaxon.voice.requests.

#include <memory>

#include "common/delivery/worker_main.h"
#include "common/kafka/topics.h"
#include "services/voice-worker/twilio_call_sender.h"

int main() {
  using klaxon::delivery::TwilioSettings;
  return klaxon::delivery::RunWorker(
      {.service = "voice-worker",
       .channel = "voice",
       .request_topic = std::string(klaxon::kafka::kVoiceRequests),
       .configure = [](klaxon::config::Reader& reader, const TwilioSettings& twilio) {
         klaxon::voice::CallSenderOptions options{
             .from = twilio.from,
             .webhook_public_url = twilio.webhook_public_url,
             .voice = reader.Optional("KLAXON_VOICE_NAME", "alice"),
             .language = reader.Optional("KLAXON_VOICE_LANGUAGE", "en-US")};
         return [options](klaxon::twilio::TwilioRestClient& client) {
           return std::make_unique<klaxon::voice::TwilioCallSender>(client, options);
         };
       }});
}
