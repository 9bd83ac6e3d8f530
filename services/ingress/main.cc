// ingress: wiring only. Reads the configuration, connects Redis and Kafka, serves SendAlert over
// gRPC (and SendAlerts, CancelAlert, AcknowledgeAlert and phone verification), Twilio's webhooks
// over HTTP and the caller API as HTTP/JSON, and drains on SIGTERM. The logic lives in AlertIntake,
// Verifier and WebhookHandler.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/reloadable_api_keys.h"
#include "common/budgets/budget_guard.h"
#include "common/budgets/redis_budget_ledger.h"
#include "common/callbacks/redis_callback_ledger.h"
#include "common/channels/redis_channel_switches.h"
#include "common/concurrency/batch_workers.h"
#include "common/concurrency/blocking_executor.h"
#include "common/config/config.h"
#include "common/grpcutil/grpcutil.h"
#include "common/grpcutil/server_security.h"
#include "common/ids/id_generator.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/limits/rate.h"
#include "common/redis/redis_client.h"
#include "common/runtime/process_hardening.h"
#include "common/runtime/service_runtime.h"
#include "common/sms_acks/redis_ack_codes.h"
#include "common/stopped_alerts/redis_stopped_alerts.h"
#include "common/timing/clock.h"
#include "common/transit/transit_cipher.h"
#include "common/twilio/webhook_routes.h"
#include "grpcpp/create_channel.h"
#include "services/ingress/backlog_monitor.h"
#include "services/ingress/budget_spend_monitor.h"
#include "services/ingress/callback_witness.h"
#include "services/ingress/http_api.h"
#include "services/ingress/ingress_settings.h"
#include "services/ingress/intake_admission.h"
#include "services/ingress/intake_service.h"
#include "services/ingress/intake_telemetry.h"
#include "services/ingress/kafka_backlog_source.h"
#include "services/ingress/redis_callback_dedupe.h"
#include "services/ingress/redis_caller_quota.h"
#include "services/ingress/redis_idempotency_store.h"
#include "services/ingress/template_renderer.h"
#include "services/ingress/verification/redis_spend_counter.h"
#include "services/ingress/verification/redis_start_limiter.h"
#include "services/ingress/verification/redis_verification_store.h"
#include "services/ingress/verification/verification_service.h"
#include "services/ingress/verification/verification_telemetry.h"
#include "services/ingress/webhook_server.h"

namespace klaxon::ingress {
namespace {

constexpr char kService[] = "ingress";

// A Twilio webhook body is small; anything over 64 KiB is refused with 413. The server's own
// limit adds room for the request line and headers.
constexpr size_t kMaxWebhookBody = 64 * 1024;
constexpr size_t kMaxWebhookHead = 16 * 1024;
// Most webhook requests one Redis round trip claims (ADR 0038).
constexpr size_t kWebhookBatch = 64;
// SendAlerts with their own text, reserved in batches (ADR 0039): threads taking the batches, and
// most SendAlerts one Redis round trip reserves. Four threads keep a round trip or two in flight
// while others prepare and publish, as for the webhook.
constexpr size_t kSendBatchThreads = 4;
constexpr size_t kSendBatch = 64;
// Published marks made in one round trip.
constexpr size_t kMarkBatch = 128;

// Sources whose rate-limit buckets are kept (least recently used evicted): about 1 MiB.
constexpr size_t kMaxRateLimitedSources = 10'000;
// How long SendAlert waits for audit to render its template: a Postgres read away, so seconds
// mean audit is in trouble; the caller gets UNAVAILABLE and retries.
constexpr absl::Duration kTemplateRenderDeadline = absl::Seconds(2);
// How many of the intake threads may wait on audit's renders at once: the rest keep taking in
// alerts with a text when audit hangs.
int MaxTemplateRenders(int64_t intake_threads) {
  return static_cast<int>(std::max<int64_t>(1, intake_threads / 4));
}

int Run() {
  runtime::HardenProcessOrExit(kService);
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "ingress: %s\n", std::string(shutdown.status().message()).c_str());
    return 1;
  }
  config::Reader reader = config::Reader::ForProcess();
  absl::StatusOr<IngressSettings> loaded = LoadIngressSettings(reader);
  config::ExitOnError(loaded.status(), kService);
  IngressSettings& settings = *loaded;
  auto runtime = runtime::ServiceRuntime::Create(kService, settings.common);
  config::ExitOnError(runtime.status(), kService);
  const log::Logger& logger = (*runtime)->logger();

  auto redis = redis::RedisClient::Create(settings.redis);
  auto publisher = kafka::KafkaPublisher::Create(
      {.brokers = settings.common.kafka_brokers,
       .security = settings.common.kafka_security,
       .client_id = kService,
       .delivery_timeout = settings.publish_timeout,
       // SendAlert's and the webhook's answers wait for the acknowledgement: batch for a
       // millisecond, not librdkafka's 5.
       .properties = {{"linger.ms",
                       absl::StrCat(absl::ToInt64Milliseconds(settings.publish_linger))}},
       .log = (*runtime)->KafkaLog()});
  auto api_keys = auth::ReloadableApiKeys::Create(settings.api_keys, logger);
  for (const absl::Status& status : {redis.status(), publisher.status(), api_keys.status()}) {
    if (!status.ok()) {
      logger.Error("startup_failed", {{"error", std::string(status.message())}});
      return 1;
    }
  }

  RedisIdempotencyStore store(**redis, settings.redis_key_prefix);
  transit::TransitCipher transit(*settings.common.transit_keyring);
  // ReadCommonSettings checked the key, so this only fails on a bug.
  const log::PhoneRedactor phone_tokens = *log::PhoneRedactor::Create(settings.common.pii_hmac_key);
  timing::RealClock clock;
  IntakeTelemetry telemetry((*runtime)->registry(), logger, clock);
  ids::UuidV7Generator alert_ids(clock);
  RedisCallerQuota quota(**redis, settings.redis_key_prefix, settings.caller_quotas);
  budgets::RedisBudgetLedger budget_ledger(**redis, settings.redis_key_prefix);
  budgets::BudgetGuard budgets(settings.budgets, budget_ledger);
  BudgetSpendMonitor budget_spend(settings.budgets, budget_ledger, clock, logger,
                                  (*runtime)->registry());
  std::jthread budget_spend_thread(
      [&budget_spend](std::stop_token stop) { budget_spend.Run(stop); });
  // The operators' channel switches (docs/adr/0012), read now and then every second.
  channels::RedisChannelSwitches switch_store(**redis, settings.redis_key_prefix);
  channels::ChannelSwitchboard switches(switch_store, logger, (*runtime)->registry());
  switches.Refresh().IgnoreError();
  std::jthread switches_thread([&switches](std::stop_token stop) { switches.Run(stop); });
  IntakeAdmission admission(settings.admission, (*runtime)->registry());
  std::vector<std::unique_ptr<KafkaBacklogSource>> backlog_sources;
  std::vector<WatchedBacklog> watched_backlogs;
  for (const auto& [channel, worker, topic] :
       {std::tuple{types::v1::CHANNEL_SMS, "sms-worker", kafka::kSmsRequests},
        std::tuple{types::v1::CHANNEL_VOICE, "voice-worker", kafka::kVoiceRequests}}) {
    auto watermarks = kafka::KafkaWatermarks::Create({.brokers = settings.common.kafka_brokers,
                                                      .security = settings.common.kafka_security,
                                                      .client_id = kService,
                                                      .group_id = kafka::WorkerGroup(worker),
                                                      .log = (*runtime)->KafkaLog()});
    if (!watermarks.ok()) {
      logger.Error("startup_failed", {{"error", std::string(watermarks.status().message())}});
      return 1;
    }
    backlog_sources.push_back(
        std::make_unique<KafkaBacklogSource>(*std::move(watermarks), settings.common.Topic(topic)));
    watched_backlogs.push_back({.channel = channel, .source = *backlog_sources.back()});
  }
  BacklogMonitor backlog(std::move(watched_backlogs), admission, logger, (*runtime)->registry());
  std::jthread backlog_thread([&backlog](std::stop_token stop) { backlog.Run(stop); });
  // Declared before the pools whose queued tasks write to it, so it outlives them.
  verification::RedisVerificationStore verifications(**redis, settings.redis_key_prefix);
  // The steps that wait on Redis (or audit) of CancelAlert, AcknowledgeAlert, and a SendAlert that
  // names a template or a chain.
  concurrency::BlockingExecutor intake_threads(
      {.threads = static_cast<size_t>(settings.intake_threads),
       .max_queued = static_cast<size_t>(settings.admission.max_in_flight)});
  // SendAlert's marks of records Kafka has, after its answers, made in batches.
  concurrency::BatchWorkers<RecordKey> published_marks(
      {.threads = 1,
       .max_batch = kMarkBatch,
       .max_queued = static_cast<size_t>(settings.admission.max_in_flight)},
      [&store](std::vector<RecordKey> keys) { (void)store.MarkAllPublished(keys); });
  // Codes of verifications and of SMS alerts acknowledged by reply (docs/adr/0024).
  crypto::CsprngCodeSource codes;
  sms_acks::RedisAckCodes ack_code_store(**redis, settings.redis_key_prefix, phone_tokens);
  sms_acks::AckCodeAssigner ack_codes(ack_code_store, codes);
  // Audit answers the HTTP API's queries and renders SendAlert's templates (docs/adr/0030).
  std::shared_ptr<grpc::Channel> audit =
      grpc::CreateChannel(settings.http_api.audit_target,
                          grpcutil::MakeChannelCredentials(settings.http_api.audit_security));
  GrpcTemplateRenderer templates(audit, kTemplateRenderDeadline,
                                 MaxTemplateRenders(settings.intake_threads));
  AlertIntake intake(
      {.topics = {.sms = settings.common.Topic(kafka::kSmsRequests),
                  .voice = settings.common.Topic(kafka::kVoiceRequests),
                  .sms_urgent = settings.common.Topic(kafka::kSmsUrgentRequests),
                  .voice_urgent = settings.common.Topic(kafka::kVoiceUrgentRequests)},
       // Without quotas SendAlert makes no round trip to Redis for them.
       .quota = settings.caller_quotas.empty() ? nullptr : &quota,
       .budgets = settings.budgets.empty() ? nullptr : &budgets,
       .admission = &admission,
       .switches = &switches,
       .fingerprint_key = settings.common.pii_hmac_key,
       .published_marks = &published_marks,
       .ack_codes = &ack_codes,
       .quiet_hours = &settings.quiet_hours,
       .templates = &templates},
      store, **publisher, transit, telemetry, alert_ids, clock);
  // Phone verification sends its codes through the intake, as alerts. Its notes of which alert
  // carries a code have threads of their own: one short Redis command each, asked for by Kafka's
  // delivery thread, so they never queue behind (or are refused by) busy intake threads; four,
  // so their commands share round trips (RedisClient pipelines concurrent callers).
  verification::RedisStartLimiter verification_starts(**redis, settings.redis_key_prefix);
  verification::RedisSpendCounter verification_spend(**redis, settings.redis_key_prefix);
  verification::VerificationTelemetry verification_telemetry((*runtime)->registry(), logger);
  concurrency::BlockingExecutor verification_notes({.threads = 4, .max_queued = 100'000});
  settings.verification.digest_key = settings.common.pii_hmac_key;
  settings.verification.events_topic = settings.common.Topic(kafka::kDeliveryEvents);
  settings.verification.note_executor = &verification_notes;
  verification::Verifier verifier(std::move(settings.verification),
                                  {.store = verifications,
                                   .limiter = verification_starts,
                                   .spend = verification_spend,
                                   .alerts = intake,
                                   .publisher = **publisher,
                                   .codes = codes,
                                   .transit = transit,
                                   .ids = alert_ids,
                                   .observer = verification_telemetry,
                                   .clock = clock});
  // The logger's redactor, phone_tokens, the intake's fingerprint key and the verifier's digest
  // key hold their own copies.
  runtime::WipeSecret(settings.common.pii_hmac_key);
  stopped_alerts::RedisStoppedAlerts stopped(**redis, settings.redis_key_prefix);
  AlertStops stops({.topic = settings.common.Topic(kafka::kDeliveryEvents),
                    .publish_timeout = settings.publish_timeout},
                   store, stopped, **publisher, telemetry, clock);
  std::jthread api_keys_thread([&](std::stop_token stop) { (*api_keys)->Run(stop); });
  BulkIntake bulk(intake, clock);
  EscalationIntake escalations(intake, intake_threads, clock);
  concurrency::BatchWorkers<IntakeCall> send_batches(
      {.threads = kSendBatchThreads,
       .max_batch = kSendBatch,
       .max_queued = static_cast<size_t>(settings.admission.max_in_flight)},
      [&intake](std::vector<IntakeCall> calls) { intake.SendAll(std::move(calls)); });
  IntakeService service(**api_keys, intake, bulk, escalations, stops, send_batches, intake_threads);
  verification::VerificationService verification_service(**api_keys, verifier, intake_threads);
  auto server = grpcutil::StartServer(
      {.address = settings.grpc.ToString(),
       .services = {service, verification_service},
       .credentials = grpcutil::MakeServerCredentials(settings.grpc_security, logger)});
  if (!server.ok()) {
    logger.Error("startup_failed", {{"error", std::string(server.status().message())}});
    return 1;
  }

  WebhookSettings& webhook_settings = settings.webhook;
  if (webhook_settings.sandbox) {
    logger.Warn("twilio_sandbox_mode", {{"detail",
                                         "webhooks signed with the local sandbox's "
                                         "well-known token are accepted"}});
  }
  // Unique across replicas, so a late release drops only its own claim (ADR 0038).
  ids::UuidV7Generator claim_tokens(clock);
  RedisCallbackDedupe dedupe(**redis, settings.redis_key_prefix, claim_tokens);
  SourceRateLimiter rate_limiter(static_cast<double>(webhook_settings.rate_limit), clock,
                                 kMaxRateLimitedSources);
  WebhookTelemetry webhook_telemetry((*runtime)->registry(), logger, clock);
  callbacks::RedisCallbackLedger callback_ledger(**redis,
                                                 {.key_prefix = settings.redis_key_prefix});
  CallbackWitness witness(callback_ledger, webhook_telemetry, clock);
  // While this replica was down (or starting), Twilio's callbacks to it were refused or went
  // unanswered: the status checks read Twilio for attempts without a final status.
  witness.NoteLoss();
  std::jthread witness_thread([&witness](std::stop_token stop) { witness.Run(stop); });
  // The tokens move into the handler, their only holder from here on.
  WebhookHandler webhook({.public_url = webhook_settings.public_url,
                          .trusted_proxies = webhook_settings.trusted_proxies,
                          .public_url_from_proxy = webhook_settings.public_url_from_proxy,
                          .auth_tokens = std::move(webhook_settings.auth_tokens),
                          .account_tokens = std::move(webhook_settings.account_tokens),
                          .topic = settings.common.Topic(kafka::kTwilioEvents),
                          .publish_timeout = settings.publish_timeout,
                          .dedupe_window = webhook_settings.dedupe_window,
                          .max_body_bytes = kMaxWebhookBody,
                          .auto_replies = std::move(webhook_settings.auto_replies)},
                         dedupe, **publisher, witness, {.transit = transit, .tokens = phone_tokens},
                         rate_limiter, webhook_telemetry, clock);
  HttpApiTelemetry http_api_telemetry((*runtime)->registry());
  std::optional<RunningHttpApi> http_api;
  if (settings.http_api.enabled) {
    absl::StatusOr<RunningHttpApi> started =
        StartHttpApi(settings.http_api, *server->server, audit, **api_keys,
                     webhook_settings.trusted_proxies, http_api_telemetry);
    if (!started.ok()) {
      logger.Error("startup_failed", {{"error", std::string(started.status().message())}});
      return 1;
    }
    http_api = *std::move(started);
    if (!settings.http_api.loopback) {
      logger.Warn("http_api_plaintext",
                  {{"detail",
                    "the HTTP/JSON API serves plain HTTP beyond loopback: publish it only through "
                    "an HTTPS load balancer (KLAXON_HTTP_API_ADDR=off turns it off)"}});
    }
  }
  // Last to start: once it takes requests, Kafka's answers call back into the webhook handler,
  // so no early return may follow without the shutdown steps below.
  auto webhook_server = WebhookServer::Start(
      {.http = {.host = webhook_settings.address.host,
                .port = webhook_settings.address.port,
                .threads = 2,
                .limits = {.max_head_bytes = kMaxWebhookHead, .max_body_bytes = kMaxWebhookBody},
                .max_connections = static_cast<size_t>(webhook_settings.max_connections),
                .max_connections_per_source =
                    static_cast<size_t>(webhook_settings.max_connections_per_source),
                // Behind the load balancer every callback comes from its addresses.
                .uncapped_source = [&proxies = webhook_settings.trusted_proxies](
                                       std::string_view source) { return proxies.Trusts(source); },
                .idle_timeout = webhook_settings.idle_timeout,
                .header_timeout = webhook_settings.header_timeout,
                .body_timeout = webhook_settings.body_timeout,
                .write_timeout = webhook_settings.write_timeout,
                .on_refused =
                    [&webhook_telemetry](int status, std::string_view reason) {
                      webhook_telemetry.OnServerRefusal(status, reason);
                    }},
       .workers = {.threads = static_cast<size_t>(webhook_settings.workers),
                   .max_batch = kWebhookBatch,
                   .max_queued = 4096},
       .on_shed = [&witness] { witness.NoteLoss(); }},
      webhook);
  if (!webhook_server.ok()) {
    logger.Error("startup_failed", {{"error", std::string(webhook_server.status().message())}});
    return 1;
  }
  (*runtime)->SetReady(true);
  logger.Info("serving", {{"grpc_port", server->port},
                          {"webhook_port", (*webhook_server)->port()},
                          {"http_api_port", http_api.has_value() ? http_api->server->port() : 0}});

  const absl::Status stopped_by = (*runtime)->WaitForShutdown(**shutdown, **publisher);
  (*runtime)->SetReady(false);
  (*webhook_server)->Shutdown();
  if (http_api.has_value()) {
    // Answers what is in flight (new requests get 503), then closes the connections.
    http_api->gateway->Drain();
    http_api->server->Shutdown();
  }
  server->server->GetHealthCheckService()->SetServingStatus(false);
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  // SendAlerts still queued publish now, while the publisher exists.
  send_batches.Drain();
  logger.Info("stopped");
  // Kafka's last delivery reports call back into the intake and the verifier: served now, while
  // everything they touch is alive (the publisher was made first, so it would go last).
  publisher->reset();
  // The steps after those answers, while the webhook server their answers go to still exists.
  webhook.Drain();
  return stopped_by.ok() ? 0 : 1;
}

}  // namespace
}  // namespace klaxon::ingress

int main() { return klaxon::ingress::Run(); }
