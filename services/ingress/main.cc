// ingress: wiring only. Reads the configuration, connects Redis and Kafka, serves SendAlert over
// gRPC, and drains on SIGTERM. The logic lives in AlertIntake.

#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "common/auth/api_keys.h"
#include "common/config/config.h"
#include "common/grpcutil/grpcutil.h"
#include "common/ids/uuid.h"
#include "common/kafka/publisher.h"
#include "common/kafka/topics.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/redis/redis_client.h"
#include "common/runtime/service_runtime.h"
#include "services/ingress/intake_service.h"
#include "services/ingress/intake_telemetry.h"
#include "services/ingress/redis_idempotency_store.h"

namespace klaxon::ingress {
namespace {

constexpr char kService[] = "ingress";

// Connections for SendAlert's idempotency calls; each takes well under a millisecond.
constexpr int kRedisConnections = 32;

struct Settings {
  runtime::CommonSettings common;
  config::HostPort grpc;
  std::optional<auth::ApiKeyRegistry> api_keys;  // set once Finish() passed
  std::string redis_url;
  std::string redis_key_prefix;
  absl::Duration publish_timeout;
};

Settings ReadSettings() {
  config::Reader reader(config::FromProcessEnvironment());
  Settings settings{.common = runtime::ReadCommonSettings(reader),
                    .grpc = reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50051"),
                    .redis_url = reader.Url("KLAXON_REDIS_URL", "", {"redis"}),
                    .redis_key_prefix = reader.Optional("KLAXON_REDIS_KEY_PREFIX", "klaxon:"),
                    .publish_timeout = reader.Duration("KLAXON_PUBLISH_TIMEOUT", absl::Seconds(5),
                                                       absl::Milliseconds(100), absl::Seconds(60))};
  if (settings.redis_url.empty()) reader.AddError("KLAXON_REDIS_URL", "is required");
  if (const std::string keys = reader.Secret("KLAXON_API_KEYS"); !keys.empty()) {
    absl::StatusOr<auth::ApiKeyRegistry> parsed = auth::ApiKeyRegistry::Parse(keys);
    if (parsed.ok()) {
      settings.api_keys = *std::move(parsed);
    } else {
      reader.AddError("KLAXON_API_KEYS", std::string(parsed.status().message()));
    }
  }
  config::ExitOnError(reader.Finish(), kService);
  return settings;
}

// Mints alert ids from the wall clock; gRPC calls it from many threads.
class AlertIdMinter {
 public:
  std::string Next() {
    std::lock_guard lock(mutex_);
    return ids::NewUuidV7(absl::Now(), gen_);
  }

 private:
  std::mutex mutex_;
  absl::BitGen gen_;
};

int Run() {
  absl::StatusOr<std::unique_ptr<lifecycle::ShutdownSignal>> shutdown =
      lifecycle::ShutdownSignal::Create();
  if (!shutdown.ok()) {
    std::fprintf(stderr, "ingress: %s\n", std::string(shutdown.status().message()).c_str());
    return 1;
  }
  const Settings settings = ReadSettings();
  auto runtime = runtime::ServiceRuntime::Create(kService, settings.common);
  config::ExitOnError(runtime.status(), kService);
  const log::Logger& logger = (*runtime)->logger();

  auto redis =
      redis::RedisClient::Create({.url = settings.redis_url, .pool_size = kRedisConnections});
  auto publisher = kafka::KafkaPublisher::Create({.brokers = settings.common.kafka_brokers,
                                                  .client_id = kService,
                                                  .delivery_timeout = settings.publish_timeout,
                                                  .log = (*runtime)->KafkaLog()});
  for (const absl::Status& status : {redis.status(), publisher.status()}) {
    if (!status.ok()) {
      logger.Error("startup_failed", {{"error", std::string(status.message())}});
      return 1;
    }
  }

  RedisIdempotencyStore store(**redis, settings.redis_key_prefix);
  IntakeTelemetry telemetry((*runtime)->registry(), logger);
  AlertIdMinter minter;
  AlertIntake intake(
      {.topics = {.sms = settings.common.Topic(kafka::kSmsRequests),
                  .voice = settings.common.Topic(kafka::kVoiceRequests)},
       .publish_timeout = settings.publish_timeout},
      store, **publisher, telemetry, [&minter] { return minter.Next(); },
      [] { return absl::Now(); });
  IntakeService service(*settings.api_keys, intake);
  auto server = grpcutil::StartServer({.address = settings.grpc.ToString(), .services = {service}});
  if (!server.ok()) {
    logger.Error("startup_failed", {{"error", std::string(server.status().message())}});
    return 1;
  }
  (*runtime)->SetReady(true);
  logger.Info("serving", {{"grpc_port", server->port}});

  const absl::Status stopped_by = (*runtime)->WaitForShutdown(**shutdown, **publisher);
  (*runtime)->SetReady(false);
  server->server->GetHealthCheckService()->SetServingStatus(false);
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  logger.Info("stopped");
  return stopped_by.ok() ? 0 : 1;
}

}  // namespace
}  // namespace klaxon::ingress

int main() { return klaxon::ingress::Run(); }
