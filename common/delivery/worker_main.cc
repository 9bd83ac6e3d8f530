#include "common/delivery/worker_main.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/delivery/dispatch_telemetry.h"
#include "common/delivery/dispatcher.h"
#include "common/delivery/redis_attempt_ledger.h"
#include "common/kafka/consumer.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/phone/phone.h"
#include "common/redis/redis_client.h"
#include "common/runtime/service_runtime.h"
#include "common/twilio/webhook_routes.h"

namespace klaxon::delivery {
namespace {

struct Settings {
  runtime::CommonSettings common;
  std::string redis_url;
  std::string redis_key_prefix;
  twilio::TwilioRestClientOptions twilio_client;
  TwilioSettings twilio;
  SenderFactory make_sender;
};

Settings ReadSettings(const WorkerSpec& spec) {
  config::Reader reader(config::FromProcessEnvironment());
  Settings settings;
  settings.common = runtime::ReadCommonSettings(reader);
  settings.redis_url = reader.Url("KLAXON_REDIS_URL", "", {"redis"});
  if (settings.redis_url.empty()) reader.AddError("KLAXON_REDIS_URL", "is required");
  settings.redis_key_prefix = reader.Optional("KLAXON_REDIS_KEY_PREFIX", "klaxon:");
  settings.twilio_client = {
      .base_url = reader.Url("KLAXON_TWILIO_BASE_URL", "https://api.twilio.com", {"http", "https"}),
      .account_sid = reader.Required("KLAXON_TWILIO_ACCOUNT_SID"),
      .auth_token = reader.Secret("KLAXON_TWILIO_AUTH_TOKEN"),
      .total_timeout = reader.Duration("KLAXON_TWILIO_TIMEOUT", absl::Seconds(15), absl::Seconds(1),
                                       absl::Seconds(60))};
  settings.twilio.from = reader.Required("KLAXON_TWILIO_FROM");
  if (!settings.twilio.from.empty() && !phone::ValidateE164(settings.twilio.from).ok()) {
    reader.AddError("KLAXON_TWILIO_FROM", "is not a valid E.164 phone number");
  }
  settings.twilio.webhook_public_url =
      reader.Url("KLAXON_WEBHOOK_PUBLIC_URL", "", {"http", "https"});
  if (!settings.twilio.webhook_public_url.empty()) {
    if (absl::Status valid = twilio::ParsePublicBaseUrl(settings.twilio.webhook_public_url).status();
        !valid.ok()) {
      reader.AddError("KLAXON_WEBHOOK_PUBLIC_URL", std::string(valid.message()));
    }
  }
  settings.make_sender = spec.configure(reader, settings.twilio);
  config::ExitOnError(reader.Finish(), spec.service);
  return settings;
}

// Unique per process, so a restarted worker never mistakes a dead predecessor's claim for its own.
std::string WorkerId(const std::string& service) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  absl::BitGen gen;
  return absl::StrCat(service, "@", host, "/", getpid(), "/",
                      absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8));
}

}  // namespace

int RunWorker(const WorkerSpec& spec) {
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.service.c_str(),
                 std::string(shutdown.status().message()).c_str());
    return 1;
  }
  const Settings settings = ReadSettings(spec);
  auto runtime = runtime::ServiceRuntime::Create(spec.service, settings.common);
  config::ExitOnError(runtime.status(), spec.service);
  const log::Logger& logger = (*runtime)->logger();

  auto redis = redis::RedisClient::Create({.url = settings.redis_url});
  auto twilio = twilio::TwilioRestClient::Create(settings.twilio_client);
  auto publisher = kafka::KafkaPublisher::Create({.brokers = settings.common.kafka_brokers,
                                                  .client_id = spec.service,
                                                  .log = (*runtime)->KafkaLog()});
  const std::string group = "klaxon-" + spec.service;
  auto consumer =
      kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                    .group_id = group,
                                    .topics = {settings.common.Topic(spec.request_topic)},
                                    .client_id = spec.service,
                                    .log = (*runtime)->KafkaLog(),
                                    .on_lag = (*runtime)->ConsumerLagGauge(group)});
  for (const absl::Status& status :
       {redis.status(), twilio.status(), publisher.status(), consumer.status()}) {
    if (!status.ok()) {
      logger.Error("startup_failed", {{"error", std::string(status.message())}});
      return 1;
    }
  }

  RedisAttemptLedger ledger(**redis, settings.redis_key_prefix);
  std::unique_ptr<Sender> sender = settings.make_sender(**twilio);
  DispatchTelemetry telemetry(spec.channel, (*runtime)->registry(), logger);
  Dispatcher dispatcher({.outcome_topic = settings.common.Topic(kafka::kDeliveryEvents),
                         .worker_id = WorkerId(spec.service)},
                        ledger, *sender, **publisher, telemetry, [] { return absl::Now(); });

  absl::Status consumed;
  std::jthread consuming([&] {
    consumed = (*consumer)->Run(dispatcher, (*shutdown)->token());
    // A consumer that ended on its own cannot recover in-process; let Kubernetes restart us.
    if (!consumed.ok()) (*shutdown)->Trigger();
  });
  (*runtime)->SetReady(true);
  logger.Info("consuming", {{"topic", settings.common.Topic(spec.request_topic)}});

  const absl::Status stopped_by = (*runtime)->WaitForShutdown(**shutdown, **publisher);
  (*runtime)->SetReady(false);
  consuming.join();  // the consumer finishes its message, commits offsets and leaves the group
  if (!consumed.ok()) {
    logger.Error("consumer_failed", {{"error", std::string(consumed.message())}});
    return 1;
  }
  logger.Info("stopped");
  return stopped_by.ok() ? 0 : 1;
}

}  // namespace klaxon::delivery
