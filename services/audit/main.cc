// audit: wiring only. Reads the configuration, migrates the schema, creates the coming months'
// event log partitions, consumes the request, delivery and Twilio event topics into Postgres in
// batches (ADR 0008), serves AlertQuery over gRPC, and drains on
// SIGTERM: gRPC first (no new queries), then the consumer (which commits the offsets of what it
// stored).

#include <chrono>
#include <cstdio>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "common/auth/api_keys.h"
#include "common/config/config.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/grpcutil/grpcutil.h"
#include "common/kafka/consumer.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/pg/conninfo.h"
#include "common/pg/database.h"
#include "common/pg/migrations.h"
#include "common/runtime/service_runtime.h"
#include "common/timing/clock.h"
#include "services/audit/alert_query_service.h"
#include "services/audit/alert_reader.h"
#include "services/audit/audit_consumer.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/audit_migrations.h"
#include "services/audit/batch_writer.h"
#include "services/audit/kafka_offset_oracle.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres_alert_store.h"
#include "services/audit/topics.h"

namespace klaxon::audit {
namespace {

constexpr char kService[] = "audit";
constexpr char kConsumerGroup[] = "klaxon-audit";
// Enough for the consumer, a busy query pool and the migration at start.
constexpr size_t kMaxPgConnections = 10;
constexpr absl::Duration kKafkaQueryTimeout = absl::Seconds(1);
constexpr auto kGrpcDrainTimeout = std::chrono::seconds(10);
// audit_events partitions created at start beyond the current month (ADR 0008).
constexpr int kEventPartitionsAhead = 2;

struct Settings {
  runtime::CommonSettings common;
  config::HostPort grpc;
  std::string api_keys;
  std::string pg_url;
  std::string keyring;          // KEKs that wrap each record's data key (ADR 0008)
  std::string blind_index_key;  // the recipient's blind index, its own key
  // Events written in one transaction at most; also how many messages the consumer handles at
  // once, so one batch can take every message in flight.
  int batch_size = 1000;
  int batch_writers = 2;  // batches written at once
};

Settings ReadSettings() {
  config::Reader reader(config::FromProcessEnvironment());
  Settings settings{
      .common = runtime::ReadCommonSettings(reader),
      .grpc = reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50052"),
      .api_keys = reader.Secret("KLAXON_API_KEYS"),
      .pg_url = reader.Secret("KLAXON_PG_URL"),
      .keyring = reader.Secret("KLAXON_KEYRING"),
      .blind_index_key = reader.Secret("KLAXON_BLIND_INDEX_KEY"),
      .batch_size =
          static_cast<int>(reader.Int("KLAXON_AUDIT_BATCH_SIZE", 1000, /*min=*/1, /*max=*/10000)),
      .batch_writers =
          static_cast<int>(reader.Int("KLAXON_AUDIT_BATCH_WRITERS", 2, /*min=*/1, /*max=*/4))};
  if (!settings.api_keys.empty()) {
    if (absl::Status parsed = auth::ApiKeyRegistry::Parse(settings.api_keys).status();
        !parsed.ok()) {
      reader.AddError("KLAXON_API_KEYS", std::string(parsed.message()));
    }
  }
  if (!settings.pg_url.empty()) {
    if (absl::Status parsed = pg::ParseConninfo(settings.pg_url).status(); !parsed.ok()) {
      reader.AddError("KLAXON_PG_URL", std::string(parsed.message()));
    }
  }
  if (!settings.keyring.empty()) {
    if (absl::Status parsed = crypto::LocalKeyring::Parse(settings.keyring).status();
        !parsed.ok()) {
      reader.AddError("KLAXON_KEYRING", std::string(parsed.message()));
    }
  }
  if (!settings.blind_index_key.empty()) {
    if (absl::Status created = crypto::BlindIndex::Create(settings.blind_index_key).status();
        !created.ok()) {
      reader.AddError("KLAXON_BLIND_INDEX_KEY", std::string(created.message()));
    }
  }
  config::ExitOnError(reader.Finish(), kService);
  return settings;
}

int Run() {
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "audit: %s\n", std::string(shutdown.status().message()).c_str());
    return 1;
  }
  const Settings settings = ReadSettings();
  auto runtime = runtime::ServiceRuntime::Create(kService, settings.common);
  config::ExitOnError(runtime.status(), kService);
  const log::Logger& logger = (*runtime)->logger();
  auto fail = [&logger](std::string_view step, const absl::Status& status) {
    logger.Error("startup_failed",
                 {{"step", std::string(step)}, {"error", std::string(status.message())}});
    return 1;
  };

  auto db = pg::Database::Connect(settings.pg_url, {.max_connections = kMaxPgConnections});
  if (!db.ok()) return fail("connect_postgres", db.status());
  auto applied = pg::ApplyMigrations(**db, AuditMigrations());
  if (!applied.ok()) return fail("migrate_schema", applied.status());
  logger.Info("schema_migrated", {{"applied_versions", *applied}});
  timing::RealClock clock;
  PostgresAlertStore store(**db);
  if (absl::Status created = store.EnsureEventPartitions(clock.Now(), kEventPartitionsAhead);
      !created.ok()) {
    return fail("create_event_partitions", created);
  }

  const Topics topics = Topics::WithPrefix(settings.common.topic_prefix);
  auto consumer =
      kafka::KafkaConsumer::Create({.brokers = settings.common.kafka_brokers,
                                    .group_id = kConsumerGroup,
                                    .topics = topics.All(),
                                    .client_id = kService,
                                    .log = (*runtime)->KafkaLog(),
                                    .on_lag = (*runtime)->ConsumerLagGauge(kConsumerGroup),
                                    .max_in_flight = settings.batch_size});
  if (!consumer.ok()) return fail("create_consumer", consumer.status());
  auto api_keys = auth::ApiKeyRegistry::Parse(settings.api_keys);
  if (!api_keys.ok()) return fail("parse_api_keys", api_keys.status());

  AuditMetrics metrics((*runtime)->registry());
  // ReadSettings accepted the same keys, so these cannot fail in practice.
  auto redactor = log::PhoneRedactor::Create(settings.common.pii_hmac_key);
  if (!redactor.ok()) return fail("create_phone_redactor", redactor.status());
  auto keyring = crypto::LocalKeyring::Parse(settings.keyring);
  if (!keyring.ok()) return fail("read_keyring", keyring.status());
  auto blind_index = crypto::BlindIndex::Create(settings.blind_index_key);
  if (!blind_index.ok()) return fail("create_blind_index", blind_index.status());
  PersonalData personal_data(*keyring);
  BatchWriter writer(store, {.max_batch = static_cast<size_t>(settings.batch_size),
                             .max_writers = settings.batch_writers});
  AuditConsumer handler(writer, personal_data, *blind_index, topics, metrics, clock, logger,
                        *redactor);
  KafkaOffsetOracle oracle(**consumer, kKafkaQueryTimeout);
  AlertReader reader(store, oracle, personal_data, clock, metrics, logger, {.topics = topics});
  AlertQueryService service(*api_keys, reader, metrics);
  auto server = grpcutil::StartServer({.address = settings.grpc.ToString(), .services = {service}});
  if (!server.ok()) return fail("start_grpc", server.status());

  std::stop_source consumer_stop;
  absl::Status consumed;
  std::jthread consumer_thread([&] {
    consumed = (*consumer)->Run(handler, consumer_stop.get_token());
    // A consumer that ended on its own cannot recover in-process; let Kubernetes restart us.
    if (!consumed.ok()) (*shutdown)->Trigger();
  });
  (*runtime)->SetReady(true);
  logger.Info("serving", {{"grpc_port", server->port}, {"consumer_group", kConsumerGroup}});

  (*shutdown)->Wait();
  logger.Info("draining", {{"signal", (*shutdown)->signal_number()}});
  (*runtime)->SetReady(false);
  server->server->GetHealthCheckService()->SetServingStatus(false);
  server->server->Shutdown(std::chrono::system_clock::now() + kGrpcDrainTimeout);
  consumer_stop.request_stop();
  consumer_thread.join();
  if (!consumed.ok()) {
    logger.Error("consumer_failed", {{"error", std::string(consumed.message())}});
    return 1;
  }
  logger.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace klaxon::audit

int main() { return klaxon::audit::Run(); }
