#pragma once
// The main of a delivery worker, shared by sms-worker and voice-worker: read and validate the
// configuration, connect Redis, Kafka and Twilio, run the Dispatcher over the channel's request
// topic, and drain on SIGTERM. Each worker's main.cc only says which channel it serves and how
// to build its Sender.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/kafka/topics.h"
#include "common/log/log.h"
#include "common/messaging/message.h"
#include "common/messaging/thread_pool_handler.h"
#include "common/redis/redis_client.h"
#include "common/runtime/service_runtime.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/retry_scheduler.h"
#include "services/delivery/sender.h"

namespace klaxon::delivery {

// Twilio settings both channels need.
struct TwilioSettings {
  // KLAXON_WEBHOOK_PUBLIC_URL: the public base URL of ingress's webhooks. Each attempt's status
  // callback URL is built under it (twilio::CallbackUrl); empty when Twilio should send none.
  std::string webhook_public_url;
};

// What RunWorker has connected, for a worker's Sender and its own consumers. Borrowed: it lives
// as long as the worker runs.
struct WorkerContext {
  const runtime::CommonSettings& common;
  redis::RedisClient& redis;
  const std::string& redis_key_prefix;
  messaging::Publisher& publisher;
  timing::Clock& clock;
  // Keys per-recipient state by a phone token instead of the number.
  const log::PhoneRedactor& redactor;
  // The delayed retry tiers and the stopped alerts, as the dispatcher uses them.
  RetryScheduler& retries;
  stopped_alerts::StoppedAlerts& stops;
  // Opens (and seals) personal data in Kafka values under KLAXON_TRANSIT_KEYRING (ADR 0013).
  transit::TransitCipher& transit;
};

using SenderFactory =
    std::function<std::unique_ptr<Sender>(twilio::TwilioRestClient&, const WorkerContext&)>;

// A consumer a worker runs beside the dispatcher's, in a consumer group of its own.
struct ExtraConsumer {
  std::string name;                 // the group is "klaxon-<service>-<name>"
  std::vector<std::string> topics;  // unprefixed, e.g. kafka::kTwilioEvents
  std::unique_ptr<messaging::MessageHandler> handler;
  // Optional: the messages `handler` acts on (ThreadPoolHandlerOptions::wants), e.g.
  // TwilioEventsOf(...); the others are done without it.
  messaging::MessageFilter wants;
};

struct WorkerSpec {
  std::string service;        // "sms-worker"
  std::string channel;        // metric label: "sms"
  std::string request_topic;  // unprefixed, e.g. kafka::kSmsRequests
  // Unprefixed, e.g. kafka::kSmsUrgentRequests: critical alerts', drained by a consumer and pool
  // of their own so they never wait behind the request topic's backlog (docs/adr/0027).
  std::string urgent_request_topic;
  // The channel's delayed retry tiers (kafka::kSmsRetryTiers): each gets a consumer of its own,
  // so a long wait on one tier never holds back a shorter one.
  std::span<const kafka::RetryTier> retry_tiers;
  // The channel's tiers for critical alerts' retries and deferrals (kafka::kSmsUrgentRetryTiers),
  // each with a consumer of its own too; their work once due runs on the urgent pool
  // (docs/adr/0027).
  std::span<const kafka::RetryTier> urgent_retry_tiers;
  // Reads the channel's own settings (recording errors in `reader`) and returns how to build its
  // Sender once the Twilio client exists.
  std::function<SenderFactory(config::Reader& reader, const TwilioSettings& twilio)> configure;
  // Optional: the worker's own consumers, built once everything is connected.
  std::function<std::vector<ExtraConsumer>(const WorkerContext&)> extra_consumers = nullptr;
};

// Runs the worker until SIGTERM or SIGINT; returns the process exit code.
int RunWorker(const WorkerSpec& spec);

}  // namespace klaxon::delivery
