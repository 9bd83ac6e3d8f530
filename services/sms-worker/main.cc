// sms-worker: sends each alert of klaxon.sms.requests as a Twilio Message.

#include <memory>

#include "common/delivery/worker_main.h"
#include "common/kafka/topics.h"
#include "services/sms-worker/twilio_message_sender.h"

int main() {
  using klaxon::delivery::TwilioSettings;
  return klaxon::delivery::RunWorker(
      {.service = "sms-worker",
       .channel = "sms",
       .request_topic = std::string(klaxon::kafka::kSmsRequests),
       .configure = [](klaxon::config::Reader&, const TwilioSettings& twilio) {
         return [twilio](klaxon::twilio::TwilioRestClient& client) {
           return std::make_unique<klaxon::sms::TwilioMessageSender>(
               client, klaxon::sms::MessageSenderOptions{
                           .from = twilio.from, .webhook_public_url = twilio.webhook_public_url});
         };
       }});
}
