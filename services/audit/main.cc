// audit: wiring only. Reads the configuration, migrates the schema, creates the coming months'
// event log partitions, consumes the request, delivery and Twilio event topics into Postgres in
// batches and klaxon.dlq into dead_letters (a consumer group of its own) (ADR 0008), serves
// AlertQuery (its watches fed by one LISTEN connection), DeadLetters and Templates (ADR 0030) over
// gRPC, POSTs status changes to the callers that subscribed (ADR 0028), analyzes a table that has
// outgrown its planner statistics (ADR 0048), and drains on SIGTERM: open watches end, then gRPC
// (no new queries or replays), then the consumers (which commit the offsets of what they stored),
// then the caller callbacks in flight.

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/auth/reloadable_api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "common/config/config.h"
#include "common/crypto/blind_index.h"
#include "common/grpcutil/grpcutil.h"
#include "common/grpcutil/server_security.h"
#include "common/ids/id_generator.h"
#include "common/kafka/consumer.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/messaging/thread_pool_handler.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/runtime/process_hardening.h"
#include "common/runtime/service_runtime.h"
#include "common/timing/clock.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/audit_settings.h"
#include "services/audit/caller_callbacks/callback_dispatcher.h"
#include "services/audit/caller_callbacks/callback_metrics.h"
#include "services/audit/caller_callbacks/curl_callback_poster.h"
#include "services/audit/dead_letters/dead_letter_handler.h"
#include "services/audit/dead_letters/dead_letter_metrics.h"
#include "services/audit/dead_letters/dead_letter_queue.h"
#include "services/audit/dead_letters/dead_letter_service.h"
#include "services/audit/inbound/inbound_messages_service.h"
#include "services/audit/ingest/audit_event_handler.h"
#include "services/audit/ingest/batch_writer.h"
#include "services/audit/ingest/progress_recorder.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres/audit_migrations.h"
#include "services/audit/postgres/planner_statistics.h"
#include "services/audit/postgres/postgres_alert_queries.h"
#include "services/audit/postgres/postgres_alert_store.h"
#include "services/audit/postgres/postgres_callback_outbox.h"
#include "services/audit/postgres/postgres_dead_letter_store.h"
#include "services/audit/postgres/postgres_inbound_messages.h"
#include "services/audit/postgres/postgres_status_listener.h"
#include "services/audit/postgres/postgres_template_store.h"
#include "services/audit/query/alert_query_service.h"
#include "services/audit/query/alert_reader.h"
#include "services/audit/query/alert_search.h"
#include "services/audit/query/alert_watcher.h"
#include "services/audit/query/kafka_offset_oracle.h"
#include "services/audit/templates/templates_service.h"
#include "services/audit/topics.h"

namespace klaxon::audit {
namespace {

constexpr char kService[] = "audit";
constexpr char kConsumerGroup[] = "klaxon-audit";
// The DLQ has a group of its own, so a dead letter never waits behind the projection's backlog.
constexpr char kDeadLetterGroup[] = "klaxon-audit-dlq";
// How often klaxon_audit_dead_letters_pending is read from Postgres.
constexpr absl::Duration kPendingRefresh = absl::Seconds(15);
// How often audit looks for tables that outgrew their planner statistics (planner_statistics.h):
// a new database's first load is planned for its size within seconds, not autovacuum's minute.
constexpr absl::Duration kStatisticsCheck = absl::Seconds(5);
// Two pools, so no caller's query can hold up the event log. Ingest's: the batch writers, and
// kIngestPgConnectionsBeside them for the progress recorder, the dead-letter consumer and the
// caller-callback dispatcher (a claim and a settle at once); the migration at start. The
// callers': GetAlert and the queries, templates, inbound messages and dead-letter RPCs, whose
// statements Postgres cancels past kCallerStatementTimeout and whose callers wait at most
// kCallerConnectionWait for a connection (then UNAVAILABLE).
constexpr size_t kIngestPgConnectionsBeside = 4;
constexpr size_t kCallerPgConnections = 8;
constexpr absl::Duration kCallerStatementTimeout = absl::Seconds(10);
constexpr absl::Duration kCallerConnectionWait = absl::Seconds(5);
constexpr absl::Duration kKafkaQueryTimeout = absl::Seconds(1);
constexpr auto kGrpcDrainTimeout = std::chrono::seconds(10);
// audit_events partitions created at start beyond the current month (ADR 0008).
constexpr int kEventPartitionsAhead = 2;

int Run() {
  runtime::HardenProcessOrExit(kService);
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "audit: %s\n", std::string(shutdown.status().message()).c_str());
    return 1;
  }
  config::Reader config_reader = config::Reader::ForProcess();
  absl::StatusOr<AuditSettings> loaded = LoadAuditSettings(config_reader);
  config::ExitOnError(loaded.status(), kService);
  AuditSettings& settings = *loaded;
  auto runtime = runtime::ServiceRuntime::Create(kService, settings.common);
  config::ExitOnError(runtime.status(), kService);
  const log::Logger& logger = (*runtime)->logger();
  auto fail = [&logger](std::string_view step, const absl::Status& status) {
    logger.Error("startup_failed",
                 {{"step", std::string(step)}, {"error", std::string(status.message())}});
    return 1;
  };

  auto db = pg::Database::Connect(settings.pg_url,
                                  {.max_connections = static_cast<size_t>(settings.batch_writers) +
                                                      kIngestPgConnectionsBeside});
  if (!db.ok()) return fail("connect_postgres", db.status());
  auto callers_db =
      pg::Database::Connect(settings.pg_url, {.max_connections = kCallerPgConnections,
                                              .statement_timeout = kCallerStatementTimeout,
                                              .acquire_timeout = kCallerConnectionWait});
  if (!callers_db.ok()) return fail("connect_postgres", callers_db.status());
  auto applied = pg::ApplyMigrations(**db, AuditMigrations());
  if (!applied.ok()) return fail("migrate_schema", applied.status());
  logger.Info("schema_migrated", {{"applied_versions", *applied}});
  timing::RealClock clock;
  ids::UuidV7Generator alert_ids(clock);
  PostgresAlertStore store(**db, settings.caller_callbacks.Callers());
  if (absl::Status created = store.EnsureEventPartitions(clock.Now(), kEventPartitionsAhead);
      !created.ok()) {
    return fail("create_event_partitions", created);
  }

  const Topics topics = Topics::WithPrefix(settings.common.topic_prefix);
  // How far audit has consumed, for GetAlert's read-your-writes: only offsets the consumer
  // stored, which every earlier message reached the store before (ADR 0002).
  ProgressRecorder progress(store, logger, {});
  auto consumer = kafka::KafkaConsumer::Create(
      {.brokers = settings.common.kafka_brokers,
       .security = settings.common.kafka_security,
       .group_id = kConsumerGroup,
       .topics = topics.All(),
       .client_id = kService,
       .session_timeout = settings.kafka_session_timeout,
       .log = (*runtime)->KafkaLog(),
       .on_lag = (*runtime)->ConsumerLagGauge(kConsumerGroup),
       .on_offset_stored =
           [&progress](const std::string& topic, int32_t partition, int64_t next_offset) {
             progress.Report(topic, partition, next_offset);
           },
       // Enough in flight to fill a batch; they wait in the BatchWriter, not on threads.
       .max_in_flight = settings.batch_size});
  if (!consumer.ok()) return fail("create_consumer", consumer.status());
  auto dlq_consumer =
      kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                    .security = settings.common.kafka_security,
                                    .group_id = kDeadLetterGroup,
                                    .topics = {settings.common.Topic(kafka::kDlq)},
                                    .client_id = kService,
                                    .session_timeout = settings.kafka_session_timeout,
                                    .log = (*runtime)->KafkaLog(),
                                    .on_lag = (*runtime)->ConsumerLagGauge(kDeadLetterGroup)});
  if (!dlq_consumer.ok()) return fail("create_dlq_consumer", dlq_consumer.status());
  auto watermarks = kafka::KafkaWatermarks::Create({.brokers = settings.common.kafka_brokers,
                                                    .security = settings.common.kafka_security,
                                                    .client_id = kService,
                                                    .log = (*runtime)->KafkaLog()});
  if (!watermarks.ok()) return fail("create_watermarks_client", watermarks.status());
  auto publisher = kafka::KafkaPublisher::Create({.brokers = settings.common.kafka_brokers,
                                                  .security = settings.common.kafka_security,
                                                  .client_id = kService,
                                                  .delivery_timeout = settings.publish_timeout,
                                                  .log = (*runtime)->KafkaLog()});
  if (!publisher.ok()) return fail("create_publisher", publisher.status());
  auto api_keys = auth::ReloadableApiKeys::Create(settings.api_keys, logger);
  if (!api_keys.ok()) return fail("parse_api_keys", api_keys.status());
  std::jthread api_keys_thread([&](std::stop_token stop) { (*api_keys)->Run(stop); });

  AuditMetrics metrics((*runtime)->registry());
  // ReadCommonSettings accepted the same key, so this cannot fail in practice.
  auto redactor = log::PhoneRedactor::Create(settings.common.pii_hmac_key);
  if (!redactor.ok()) return fail("create_phone_redactor", redactor.status());
  const crypto::BlindIndex& blind_index = settings.blind_index;
  PersonalData personal_data(settings.keyring);
  transit::TransitCipher transit(*settings.common.transit_keyring);
  BatchWriter writer(store, {.max_batch = static_cast<size_t>(settings.batch_size),
                             .max_writers = settings.batch_writers,
                             .linger = settings.batch_linger});
  AuditEventHandler handler(writer, personal_data, blind_index, topics, metrics, clock, logger,
                            *redactor, transit);
  KafkaOffsetOracle oracle(**watermarks, kKafkaQueryTimeout);
  PostgresAlertStore callers_store(**callers_db, settings.caller_callbacks.Callers());
  AlertReader reader(callers_store, oracle, personal_data, clock, metrics, logger,
                     {.topics = topics});
  PostgresAlertQueries queries(**callers_db);
  AlertSearch search(queries, blind_index);
  AlertWatcher watcher(reader, metrics, clock,
                       {.max_watchers = static_cast<size_t>(kMaxWatchers),
                        .max_per_caller = static_cast<size_t>(settings.watch_max_per_caller),
                        .max_lifetime = settings.watch_max_lifetime});
  PostgresStatusListener listener(settings.pg_url, logger, {});
  std::jthread listener_thread([&](std::stop_token stop) { listener.Run(watcher, stop); });
  AlertQueryService service(**api_keys, reader, search, watcher, metrics);

  PostgresDeadLetterStore dead_letters(**callers_db);
  PostgresDeadLetterStore dead_letter_ingest(**db);
  DeadLetterMetrics dead_letter_metrics((*runtime)->registry());
  DeadLetterHandler dead_letter_handler(dead_letter_ingest, personal_data, blind_index,
                                        dead_letter_metrics, logger, transit);
  DeadLetterQueue dead_letter_queue({.topics = topics, .publish_timeout = settings.publish_timeout},
                                    dead_letters, personal_data, **publisher, dead_letter_metrics,
                                    clock, alert_ids, logger, transit);
  DeadLetterService dead_letter_service(**api_keys, dead_letter_queue);
  PostgresTemplateStore templates(**callers_db);
  TemplatesService templates_service(**api_keys, templates, logger);
  PostgresInboundMessages inbound_messages(**callers_db);
  InboundMessageReader inbound_reader(inbound_messages, personal_data, blind_index, logger);
  InboundMessagesService inbound_service(**api_keys, inbound_reader);
  auto server = grpcutil::StartServer(
      {.address = settings.grpc.ToString(),
       .services = {service, dead_letter_service, templates_service, inbound_service},
       .credentials = grpcutil::MakeServerCredentials(settings.grpc_security, logger)});
  if (!server.ok()) return fail("start_grpc", server.status());

  // Caller callbacks (ADR 0028): the outbox is drained even when nobody subscribes any more, so
  // what a removed subscription left behind is dead-lettered rather than pending for ever.
  PostgresCallbackOutbox callback_outbox(**db);
  auto callback_poster =
      CurlCallbackPoster::Create(static_cast<size_t>(settings.caller_callback_concurrency));
  if (!callback_poster.ok()) return fail("create_callback_poster", callback_poster.status());
  CallbackMetrics callback_metrics((*runtime)->registry());
  concurrency::BlockingExecutor callback_posts(
      {.threads = static_cast<size_t>(settings.caller_callback_concurrency),
       .max_queued = static_cast<size_t>(settings.caller_callback_concurrency)});
  CallbackDispatcher callback_dispatcher(
      callback_outbox, **callback_poster, settings.caller_callbacks, clock, callback_metrics,
      logger,
      [&callback_posts](std::function<void()> post) {
        // The dispatcher never has more POSTs out than the pool has threads; inline otherwise.
        if (!callback_posts.Submit(post)) post();
      },
      [random = std::mt19937_64(std::random_device()())]() mutable {
        return std::uniform_real_distribution<double>(0, 1)(random);
      },
      {.concurrency = static_cast<size_t>(settings.caller_callback_concurrency),
       .timeout = settings.caller_callback_timeout,
       .give_up_after = settings.caller_callback_give_up_after});

  std::jthread progress_thread([&](std::stop_token stop) { progress.Run(stop); });
  std::jthread callback_thread([&](std::stop_token stop) { callback_dispatcher.Run(stop); });
  std::stop_source consumer_stop;
  absl::Status consumed;
  std::jthread consumer_thread([&] {
    consumed = (*consumer)->Run(handler, consumer_stop.get_token());
    // A consumer that ended on its own cannot recover in-process; let Kubernetes restart us.
    if (!consumed.ok()) (*shutdown)->Trigger();
  });
  absl::Status dead_letters_consumed;
  std::jthread dlq_thread([&] {
    // Dead letters are rare and each is one blocking insert: one message at a time, on one
    // thread of its own.
    messaging::ThreadPoolHandler pooled(
        dead_letter_handler, {.threads = static_cast<size_t>((*dlq_consumer)->max_in_flight())});
    dead_letters_consumed = (*dlq_consumer)->Run(pooled, consumer_stop.get_token());
    if (!dead_letters_consumed.ok()) (*shutdown)->Trigger();
  });
  std::jthread pending_thread([&] {
    do {
      if (absl::Status refreshed = dead_letter_queue.RefreshPending(); !refreshed.ok()) {
        logger.Warn("dead_letters_pending_unknown", {{"error", std::string(refreshed.message())}});
      }
    } while (!(*shutdown)->WaitFor(kPendingRefresh));
  });
  PlannerStatistics planner_statistics(**db);
  std::jthread statistics_thread([&] {
    do {
      absl::StatusOr<std::vector<AnalyzedTable>> analyzed =
          planner_statistics.AnalyzeOutgrownTables();
      if (!analyzed.ok()) {
        logger.Warn("table_statistics_not_refreshed",
                    {{"error", std::string(analyzed.status().message())}});
      } else {
        for (const AnalyzedTable& table : *analyzed) {
          logger.Info("table_analyzed", {{"table", table.name}, {"live_rows", table.live_rows}});
        }
      }
    } while (!(*shutdown)->WaitFor(kStatisticsCheck));
  });
  (*runtime)->SetReady(true);
  logger.Info("serving", {{"grpc_port", server->port},
                          {"consumer_group", kConsumerGroup},
                          {"dlq_consumer_group", kDeadLetterGroup}});

  const absl::Status stopped_by = (*runtime)->WaitForShutdown(**shutdown, **publisher);
  (*runtime)->SetReady(false);
  server->server->GetHealthCheckService()->SetServingStatus(false);
  // Open watches would otherwise hold the drain until their deadlines; they end UNAVAILABLE and
  // their clients watch again elsewhere.
  watcher.Shutdown();
  server->server->Shutdown(std::chrono::system_clock::now() + kGrpcDrainTimeout);
  listener_thread.request_stop();
  listener_thread.join();
  consumer_stop.request_stop();
  consumer_thread.join();
  progress_thread.request_stop();  // after the consumer, so its last offsets are written too
  progress_thread.join();
  dlq_thread.join();
  pending_thread.join();
  statistics_thread.join();
  callback_thread.request_stop();  // after the consumer: what it stored is in the outbox
  callback_thread.join();
  bool failed = !stopped_by.ok();
  for (const absl::Status& status : {consumed, dead_letters_consumed}) {
    if (status.ok()) continue;
    logger.Error("consumer_failed", {{"error", std::string(status.message())}});
    failed = true;
  }
  if (failed) return 1;
  logger.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace klaxon::audit

int main() { return klaxon::audit::Run(); }
