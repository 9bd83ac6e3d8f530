#include "services/delivery/worker_main.h"

#include <prometheus/gauge.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/budgets/redis_budget_ledger.h"
#include "common/callbacks/redis_callback_ledger.h"
#include "common/channels/redis_channel_switches.h"
#include "common/concurrency/blocking_executor.h"
#include "common/concurrency/timer_thread.h"
#include "common/kafka/consumer.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/messaging/thread_pool_handler.h"
#include "common/redis/redis_client.h"
#include "common/runtime/process_hardening.h"
#include "common/runtime/service_runtime.h"
#include "common/stopped_alerts/redis_stopped_alerts.h"
#include "common/timing/clock.h"
#include "services/delivery/account_senders.h"
#include "services/delivery/channel_switch_gate.h"
#include "services/delivery/dispatch_telemetry.h"
#include "services/delivery/dispatcher.h"
#include "services/delivery/in_flight_limited_sender.h"
#include "services/delivery/kafka_retry_scheduler.h"
#include "services/delivery/redis_attempt_ledger.h"
#include "services/delivery/redis_in_flight_limit.h"
#include "services/delivery/redis_send_gate.h"
#include "services/delivery/redis_send_limiter.h"
#include "services/delivery/redis_status_check_queue.h"
#include "services/delivery/redis_suppression_list.h"
#include "services/delivery/status_check_sweeper.h"
#include "services/delivery/status_checker.h"
#include "services/delivery/tier_handler.h"
#include "services/delivery/worker_settings.h"

namespace klaxon::delivery {
namespace {

// Unique per process, so a restarted worker never mistakes a dead predecessor's claim for its own.
std::string WorkerId(const std::string& service) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  absl::BitGen gen;
  return absl::StrCat(service, "@", host, "/", getpid(), "/",
                      absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8));
}

// "klaxon.sms.retry.10s" → "10s", "klaxon.sms.retry.urgent.1m" → "urgent.1m", for the tier's
// consumer group.
std::string TierName(const kafka::RetryTier& tier) {
  constexpr std::string_view kRetry = ".retry.";
  const std::string_view topic = tier.topic;
  return std::string(topic.substr(topic.find(kRetry) + kRetry.size()));
}

// The extra consumers read the busy Twilio events topic for the few events they act on (replies,
// calls ended, key presses), none of which needs to be seen within 100 ms: under load a fetch
// carries a batch instead of a message or two (docs/adr/0017, "Revisited: a consumer skips what its
// handler ignores").
const std::map<std::string, std::string> kBatchedFetch = {{"fetch.min.bytes", "16384"},
                                                          {"fetch.wait.max.ms", "100"}};

// One tier's consumer and the handler it runs.
struct TierConsumer {
  std::string group;
  std::unique_ptr<kafka::KafkaConsumer> consumer;
  std::unique_ptr<TierHandler> handler;
};

}  // namespace

int RunWorker(const WorkerSpec& spec) {
  runtime::HardenProcessOrExit(spec.service);
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.service.c_str(),
                 std::string(shutdown.status().message()).c_str());
    return 1;
  }
  config::Reader reader = config::Reader::ForProcess();
  const absl::StatusOr<WorkerSettings> loaded = LoadWorkerSettings(reader, spec);
  config::ExitOnError(loaded.status(), spec.service);
  const WorkerSettings& settings = *loaded;
  auto runtime = runtime::ServiceRuntime::Create(spec.service, settings.common);
  config::ExitOnError(runtime.status(), spec.service);
  const log::Logger& logger = (*runtime)->logger();

  auto redis = redis::RedisClient::Create(settings.redis);
  auto twilio = TwilioClients(settings);
  auto publisher = kafka::KafkaPublisher::Create({.brokers = settings.common.kafka_brokers,
                                                  .security = settings.common.kafka_security,
                                                  .client_id = spec.service,
                                                  .log = (*runtime)->KafkaLog()});
  const std::string group = kafka::WorkerGroup(spec.service);
  auto consumer =
      kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                    .security = settings.common.kafka_security,
                                    .group_id = group,
                                    .topics = {settings.common.Topic(spec.request_topic)},
                                    .client_id = spec.service,
                                    .session_timeout = settings.kafka_session_timeout,
                                    .log = (*runtime)->KafkaLog(),
                                    .on_lag = (*runtime)->ConsumerLagGauge(group),
                                    .max_in_flight = settings.concurrency});
  const std::string urgent_group = group + "-urgent";
  auto urgent_consumer =
      kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                    .security = settings.common.kafka_security,
                                    .group_id = urgent_group,
                                    .topics = {settings.common.Topic(spec.urgent_request_topic)},
                                    .client_id = spec.service,
                                    .session_timeout = settings.kafka_session_timeout,
                                    .log = (*runtime)->KafkaLog(),
                                    .on_lag = (*runtime)->ConsumerLagGauge(urgent_group),
                                    .max_in_flight = settings.urgent_concurrency});
  // ReadCommonSettings checked the key, so this only fails on a bug.
  auto redactor = log::PhoneRedactor::Create(settings.common.pii_hmac_key);
  for (const absl::Status& status :
       {redis.status(), twilio.status(), publisher.status(), consumer.status(),
        urgent_consumer.status(), redactor.status()}) {
    if (!status.ok()) {
      logger.Error("startup_failed", {{"error", std::string(status.message())}});
      return 1;
    }
  }
  // The channel's tiers, then its urgent ones; each with a consumer and a TierHandler of its own.
  std::vector<kafka::RetryTier> all_tiers(spec.retry_tiers.begin(), spec.retry_tiers.end());
  all_tiers.insert(all_tiers.end(), spec.urgent_retry_tiers.begin(), spec.urgent_retry_tiers.end());
  std::vector<TierConsumer> tiers;
  for (const kafka::RetryTier& tier : all_tiers) {
    const std::string tier_group = absl::StrCat(group, "-retry-", TierName(tier));
    auto tier_consumer = kafka::KafkaConsumer::Create(
        {.brokers = settings.common.kafka_brokers,
         .security = settings.common.kafka_security,
         .group_id = tier_group,
         .topics = {settings.common.Topic(tier.topic)},
         .client_id = spec.service,
         .session_timeout = settings.kafka_session_timeout,
         .properties = TierConsumerProperties(tier.delay),
         .log = (*runtime)->KafkaLog(),
         .on_lag = (*runtime)->ConsumerLagGauge(tier_group),
         // Each message waits for its own not_before on a timer (TierHandler), so one alert's
         // long wait (a hop, a recipient window, a schedule) never holds the others of its tier,
         // as long as the tier may hold many.
         .max_in_flight = settings.tier_max_held});
    if (!tier_consumer.ok()) {
      logger.Error("startup_failed", {{"error", std::string(tier_consumer.status().message())}});
      return 1;
    }
    tiers.push_back({.group = tier_group, .consumer = *std::move(tier_consumer)});
  }

  timing::RealClock clock;
  KafkaRetryScheduler retry_scheduler({.topic_prefix = settings.common.topic_prefix}, **publisher,
                                      clock);
  stopped_alerts::RedisStoppedAlerts stops(**redis, settings.redis_key_prefix);
  transit::TransitCipher transit(*settings.common.transit_keyring);
  const WorkerContext context{.common = settings.common,
                              .redis = **redis,
                              .redis_key_prefix = settings.redis_key_prefix,
                              .publisher = **publisher,
                              .clock = clock,
                              .redactor = *redactor,
                              .retries = retry_scheduler,
                              .stops = stops,
                              .transit = transit};
  std::vector<ExtraConsumer> extras;
  if (spec.extra_consumers) extras = spec.extra_consumers(context);
  std::vector<std::unique_ptr<kafka::KafkaConsumer>> extra_consumers;
  for (const ExtraConsumer& extra : extras) {
    const std::string extra_group = absl::StrCat(group, "-", extra.name);
    std::vector<std::string> topics;
    for (const std::string& topic : extra.topics) topics.push_back(settings.common.Topic(topic));
    auto created =
        kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                      .security = settings.common.kafka_security,
                                      .group_id = extra_group,
                                      .topics = topics,
                                      .client_id = spec.service,
                                      .session_timeout = settings.kafka_session_timeout,
                                      .properties = kBatchedFetch,
                                      .log = (*runtime)->KafkaLog(),
                                      .on_lag = (*runtime)->ConsumerLagGauge(extra_group)});
    if (!created.ok()) {
      logger.Error("startup_failed", {{"error", std::string(created.status().message())}});
      return 1;
    }
    extra_consumers.push_back(*std::move(created));
  }

  RedisAttemptLedger ledger(**redis, settings.redis_key_prefix);
  callbacks::RedisCallbackLedger callback_ledger(**redis,
                                                 {.key_prefix = settings.redis_key_prefix});
  DispatchTelemetry telemetry(spec.channel, (*runtime)->registry(), logger, clock);
  const std::vector<std::string> account_names = twilio::AccountNames(settings.accounts);
  telemetry.AccountsClosed(account_names);
  AccountBreakers breakers(
      settings.account_breaker, account_names, clock,
      [&telemetry](const std::string& account, BreakerState state, const std::string& why) {
        telemetry.OnAccountState(account, state, why);
      });
  RedisSuppressionList suppressions(**redis, settings.redis_key_prefix, *redactor);
  RetryPolicy retry_policy(settings.retry, [gen = std::make_shared<absl::BitGen>()] {
    return absl::Uniform<double>(*gen, 0.0, 1.0);
  });
  RedisSendLimiter limiter(**redis, settings.redis_key_prefix, settings.limits.send, *redactor);
  const std::string worker_id = WorkerId(spec.service);
  RedisInFlightLimit in_flight(
      **redis,
      {.key_prefix = settings.redis_key_prefix,
       .owner = worker_id,
       .limit = settings.limits.max_in_flight,
       .urgent_reserve = settings.limits.in_flight_urgent_reserve,
       // Outlasts any REST call (each is bounded by the timeout), so only a dead holder loses it.
       .lease = 2 * settings.twilio_client.total_timeout,
       .in_flight = &prometheus::BuildGauge()
                         .Name("klaxon_delivery_twilio_in_flight_requests")
                         .Help("Requests to Twilio this worker has in flight")
                         .Register((*runtime)->registry())
                         .Add({{"channel", spec.channel}})},
      clock);
  // A sender per account; a send goes to its sender's account (docs/adr/0035). Their reads of
  // Twilio (status checks, charges, settlements) count against the in-flight limit as sends do.
  std::map<std::string, std::unique_ptr<Sender>> account_senders;
  for (const auto& [account, client] : *twilio) {
    account_senders.emplace(
        account, std::make_unique<InFlightLimitedSender>(settings.make_sender(*client, context),
                                                         in_flight, kReadSlotWait));
  }
  AccountSenders sender(std::move(account_senders));
  RedisSendGate redis_gate(**redis, settings.redis_key_prefix, limiter, in_flight, *redactor);
  channels::RedisChannelSwitches switch_store(**redis, settings.redis_key_prefix);
  channels::ChannelSwitchboard switches(switch_store, logger, (*runtime)->registry());
  // Read before the first message; then every second (unreadable: every channel stays on).
  switches.Refresh().IgnoreError();
  std::jthread switches_thread([&switches](std::stop_token stop) { switches.Run(stop); });
  ChannelSwitchGate gate({.recheck = settings.channel_disabled_recheck}, switches, redis_gate);
  // Spend budgets (docs/adr/0037): each send reserves its estimate, each charge settles it.
  budgets::RedisBudgetLedger budget_ledger(**redis, settings.redis_key_prefix);
  budgets::BudgetGuard budget_guard(settings.budgets, budget_ledger);
  budgets::BudgetGuard* const budgets = settings.budgets.empty() ? nullptr : &budget_guard;
  // The status checks wait in Redis until due (docs/adr/0045), critical alerts' in a lane of
  // their own; the sweepers below run them.
  RedisStatusCheckQueue check_queue(**redis, settings.redis_key_prefix, settings.channel);
  StatusChecker status_checker({.twilio_events_topic = settings.common.Topic(kafka::kTwilioEvents),
                                .status_check_first = settings.status_check_first,
                                .status_check_after = settings.status_check_after,
                                .read_charges = settings.read_charges},
                               {.callbacks = callback_ledger,
                                .sender = sender,
                                .publisher = **publisher,
                                .checks = check_queue,
                                .observer = telemetry,
                                .clock = clock,
                                .budgets = budgets});
  // The Dispatcher hands `status_checker` the checks a worker before docs/adr/0045 put on the
  // tiers.
  Dispatcher dispatcher({.outcome_topic = settings.common.Topic(kafka::kDeliveryEvents),
                         .dlq_topic = settings.common.Topic(kafka::kDlq),
                         .worker_id = worker_id,
                         .sms = spec.channel == "sms",
                         .settle_after = settings.settle_after},
                        {.ledger = ledger,
                         .sender = sender,
                         .publisher = **publisher,
                         .retries = context.retries,
                         .routing = settings.routing,
                         .breakers = breakers,
                         .gate = gate,
                         .limiter = limiter,
                         .in_flight = in_flight,
                         .suppressions = suppressions,
                         .status_checker = status_checker,
                         .retry_policy = retry_policy,
                         .observer = telemetry,
                         .clock = clock,
                         .transit = context.transit,
                         .budgets = budgets});

  // The tiers hold their messages until due on one timer thread, and share one pool for the
  // work once due (ADR 0017): a held message costs no thread. When the worker stops, the timers
  // hand every held message back unstored.
  concurrency::BlockingExecutor tier_pool({.threads = static_cast<size_t>(settings.concurrency),
                                           .max_queued = std::numeric_limits<size_t>::max()});
  concurrency::BlockingExecutor urgent_tier_pool(
      {.threads = static_cast<size_t>(settings.urgent_concurrency),
       .max_queued = std::numeric_limits<size_t>::max()});
  concurrency::TimerThread tier_timers((*shutdown)->token());
  for (size_t i = 0; i < tiers.size(); ++i) {
    tiers[i].handler =
        std::make_unique<TierHandler>(TierHandlerOptions{.max_wait = all_tiers[i].delay},
                                      TierHandlerPorts{.next = dispatcher,
                                                       .scheduler = retry_scheduler,
                                                       .pool = tier_pool,
                                                       .urgent_pool = urgent_tier_pool,
                                                       .timers = tier_timers,
                                                       .clock = clock});
  }
  // A check waits for an in-flight slot, reads Twilio and publishes twice at most; its lease
  // lets it wait in the pool as long again. The checks take half of each pool's threads at most,
  // so retries and deferrals coming due always find some.
  const absl::Duration check_handling = kReadSlotWait + settings.twilio_client.total_timeout +
                                        2 * StatusCheckerOptions{}.publish_timeout;
  const auto sweeper = [&](CheckLane lane, concurrency::BlockingExecutor& pool, int threads) {
    return std::make_unique<StatusCheckSweeper>(
        StatusCheckSweeperOptions{.lane = lane,
                                  .max_handling = check_handling,
                                  .lease = 2 * check_handling,
                                  .max_in_flight = static_cast<size_t>(std::max(1, threads / 2))},
        StatusCheckSweeperPorts{.queue = check_queue,
                                .handler = status_checker,
                                .pool = pool,
                                .observer = telemetry,
                                .clock = clock});
  };
  const std::unique_ptr<StatusCheckSweeper> sweepers[] = {
      sweeper(CheckLane::kNormal, tier_pool, settings.concurrency),
      sweeper(CheckLane::kUrgent, urgent_tier_pool, settings.urgent_concurrency)};
  std::vector<std::jthread> sweeping;
  for (const std::unique_ptr<StatusCheckSweeper>& each : sweepers) {
    sweeping.emplace_back(
        [each = each.get(), signal = shutdown->get()] { each->Run(signal->token()); });
  }
  // The request topic's handler and the extra ones block (Twilio, Redis), so each runs on a pool
  // of as many threads as its consumer keeps messages in flight.
  std::vector<std::unique_ptr<messaging::ThreadPoolHandler>> pools;
  const auto pooled = [&pools](kafka::KafkaConsumer& from, messaging::MessageHandler& handler,
                               messaging::MessageFilter wants =
                                   nullptr) -> messaging::AsyncMessageHandler& {
    return *pools.emplace_back(std::make_unique<messaging::ThreadPoolHandler>(
        handler,
        messaging::ThreadPoolHandlerOptions{.threads = static_cast<size_t>(from.max_in_flight()),
                                            .wants = std::move(wants)}));
  };

  // The dispatcher's consumers first (the request topic's, the urgent topic's), then the extra
  // ones, then one per retry tier; a consumer that ended on its own cannot recover in-process, so
  // it stops the worker and lets Kubernetes restart it.
  std::vector<absl::Status> consumed(2 + extras.size() + tiers.size());
  std::vector<std::jthread> consuming;
  consuming.reserve(consumed.size());
  const auto run = [&](kafka::KafkaConsumer& from, messaging::AsyncMessageHandler& handler,
                       absl::Status& result) {
    consuming.emplace_back(
        [from = &from, handler = &handler, result = &result, signal = shutdown->get()] {
          *result = from->Run(*handler, signal->token());
          if (!result->ok()) signal->Trigger();
        });
  };
  run(**consumer, pooled(**consumer, dispatcher), consumed[0]);
  run(**urgent_consumer, pooled(**urgent_consumer, dispatcher), consumed[1]);
  for (size_t i = 0; i < extras.size(); ++i) {
    run(*extra_consumers[i], pooled(*extra_consumers[i], *extras[i].handler, extras[i].wants),
        consumed[2 + i]);
  }
  for (size_t i = 0; i < tiers.size(); ++i) {
    run(*tiers[i].consumer, *tiers[i].handler, consumed[2 + extras.size() + i]);
  }
  // Not ready while every Twilio account rests: this worker could send nothing (docs/adr/0035).
  (*runtime)->SetReadinessCheck([&breakers] { return breakers.AnyUsable(); });
  (*runtime)->SetReady(true);
  logger.Info("consuming", {{"topic", settings.common.Topic(spec.request_topic)}});

  const absl::Status stopped_by = (*runtime)->WaitForShutdown(**shutdown, **publisher);
  (*runtime)->SetReady(false);
  (*runtime)->SetReadinessCheck(nullptr);  // the breakers go before the runtime
  // Each consumer lets its messages in flight finish (a tier wait is cut short), commits and
  // leaves its group.
  consuming.clear();
  sweeping.clear();  // the checks in flight finish
  for (const absl::Status& status : consumed) {
    if (!status.ok()) {
      logger.Error("consumer_failed", {{"error", std::string(status.message())}});
      return 1;
    }
  }
  logger.Info("stopped");
  return stopped_by.ok() ? 0 : 1;
}

}  // namespace klaxon::delivery
