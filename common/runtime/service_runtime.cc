#include "common/runtime/service_runtime.h"

#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/kafka/topics.h"

namespace klaxon::runtime {

CommonSettings ReadCommonSettings(config::Reader& reader) {
  CommonSettings settings;
  const std::string level =
      reader.Enum("KLAXON_LOG_LEVEL", "info", {"debug", "info", "warn", "error"});
  if (absl::StatusOr<log::Level> parsed = log::ParseLevel(level); parsed.ok()) {
    settings.log_level = *parsed;
  }
  settings.pii_hmac_key = reader.Secret("KLAXON_PII_HMAC_KEY");
  if (!settings.pii_hmac_key.empty() &&
      settings.pii_hmac_key.size() < log::PhoneRedactor::kMinKeyBytes) {
    reader.AddError("KLAXON_PII_HMAC_KEY", "must be at least 16 bytes long");
  }
  settings.transit_keyring = transit::ReadTransitKeyring(reader);
  settings.admin = reader.HostPortValue("KLAXON_ADMIN_ADDR", "127.0.0.1:9464");
  kafka::ClusterSettings kafka = kafka::ReadClusterSettings(reader);
  settings.kafka_brokers = std::move(kafka.brokers);
  settings.kafka_security = std::move(kafka.security);
  settings.topic_prefix = reader.Optional("KLAXON_TOPIC_PREFIX", "");
  if (absl::Status valid =
          kafka::PrefixedTopic(settings.topic_prefix, kafka::kSmsRequests).status();
      !valid.ok()) {
    reader.AddError("KLAXON_TOPIC_PREFIX", std::string(valid.message()));
  }
  return settings;
}

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Create(
    std::string service, const CommonSettings& settings) {
  // Debian's abseil is built with absl::Mutex's deadlock detection on, so every lock gRPC takes
  // also updated a lock-order graph (GraphCycles: 2.5% of ingress's CPU samples under load).
  // Klaxon's own locks are std::mutex; the check only costs the services time.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<log::PhoneRedactor> redactor = log::PhoneRedactor::Create(settings.pii_hmac_key);
  if (!redactor.ok()) return redactor.status();
  std::unique_ptr<ServiceRuntime> runtime(
      new ServiceRuntime(std::move(service), *std::move(redactor), settings.log_level));
  absl::StatusOr<std::unique_ptr<metrics::AdminServer>> admin = metrics::AdminServer::Start(
      {.host = settings.admin.host,
       .port = settings.admin.port,
       .registry = runtime->registry_,
       .ready = [service = runtime.get()] { return service->Ready(); }});
  if (!admin.ok()) return admin.status();
  runtime->admin_ = *std::move(admin);
  runtime->logger_.Info("admin_listening",
                        {{"address", settings.admin.host}, {"port", runtime->admin_->port()}});
  return runtime;
}

void ServiceRuntime::SetReadinessCheck(std::function<bool()> check) {
  std::lock_guard lock(readiness_mutex_);
  readiness_check_ = std::move(check);
}

bool ServiceRuntime::Ready() {
  if (!ready_.load()) return false;
  std::lock_guard lock(readiness_mutex_);
  return !readiness_check_ || readiness_check_();
}

ServiceRuntime::ServiceRuntime(std::string service, log::PhoneRedactor redactor, log::Level level)
    : logger_({.service = std::move(service), .min_level = level}, std::move(redactor), sink_),
      consumer_lag_(prometheus::BuildGauge()
                        .Name("klaxon_consumer_lag")
                        .Help("Messages between the consumer group's committed offset and the "
                              "partition's high watermark")
                        .Register(*registry_)) {}

kafka::LagFn ServiceRuntime::ConsumerLagGauge(std::string group) {
  return [this, group = std::move(group)](const std::vector<kafka::PartitionLag>& lags) {
    std::lock_guard lock(lag_mutex_);
    std::map<std::pair<std::string, int32_t>, prometheus::Gauge*>& previous = lag_gauges_[group];
    std::map<std::pair<std::string, int32_t>, prometheus::Gauge*> current;
    for (const kafka::PartitionLag& entry : lags) {
      prometheus::Gauge& gauge =
          consumer_lag_.Add({{"group", group},
                             {"topic", entry.topic},
                             {"partition", std::to_string(entry.partition)}});
      gauge.Set(static_cast<double>(entry.lag));
      current[{entry.topic, entry.partition}] = &gauge;
    }
    for (const auto& [partition, gauge] : previous) {
      if (!current.contains(partition)) consumer_lag_.Remove(gauge);
    }
    previous = std::move(current);
  };
}

kafka::LogFn ServiceRuntime::KafkaLog() const {
  return [this](std::string_view level, std::string_view event, std::string_view detail) {
    logger_.Log(log::ParseLevel(level).value_or(log::Level::kInfo), event,
                {{"detail", std::string(detail)}});
  };
}

absl::Status ServiceRuntime::WaitForShutdown(lifecycle::ShutdownSignal& shutdown,
                                             const kafka::KafkaPublisher& publisher) const {
  while (!shutdown.WaitFor(absl::Seconds(1))) {
    if (absl::Status fatal = publisher.FatalError(); !fatal.ok()) {
      logger_.Error("kafka_producer_fatal", {{"error", std::string(fatal.message())}});
      shutdown.Trigger();
      return fatal;
    }
  }
  logger_.Info("draining", {{"signal", shutdown.signal_number()}});
  return absl::OkStatus();
}

ServiceRuntime::~ServiceRuntime() {
  // The admin server goes last so probes and a final scrape work until the very end.
  ready_.store(false);
  admin_.reset();
}

}  // namespace klaxon::runtime
