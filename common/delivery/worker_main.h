#pragma once
// The main of a delivery worker, shared by sms-worker and voice-worker: read and validate the
// configuration, connect Redis, Kafka and Twilio, run the Dispatcher over the channel's request
// topic, and drain on SIGTERM. Each worker's main.cc only says which channel it serves and how
// to build its Sender.

#include <functional>
#include <memory>
#include <string>

#include "common/config/config.h"
#include "common/delivery/sender.h"
#include "common/twilio/twilio_rest_client.h"

namespace klaxon::delivery {

// Twilio settings both channels need.
struct TwilioSettings {
  std::string from;  // the sender number, E.164
  // KLAXON_WEBHOOK_PUBLIC_URL: the public base URL of ingress's webhooks. Each attempt's status
  // callback URL is built under it (twilio::CallbackUrl); empty when Twilio should send none.
  std::string webhook_public_url;
};

using SenderFactory = std::function<std::unique_ptr<Sender>(twilio::TwilioRestClient&)>;

struct WorkerSpec {
  std::string service;        // "sms-worker"
  std::string channel;        // metric label: "sms"
  std::string request_topic;  // unprefixed, e.g. kafka::kSmsRequests
  // Reads the channel's own settings (recording errors in `reader`) and returns how to build its
  // Sender once the Twilio client exists.
  std::function<SenderFactory(config::Reader& reader, const TwilioSettings& twilio)> configure;
};

// Runs the worker until SIGTERM or SIGINT; returns the process exit code.
int RunWorker(const WorkerSpec& spec);

}  // namespace klaxon::delivery
