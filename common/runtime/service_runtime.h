#pragma once
// What every Klaxon service main sets up the same way: the settings all services share, the JSON
// logger, the metrics registry and the admin server (/metrics, /livez, /readyz) whose readiness
// the main flips as it starts and drains. Mains stay wiring only.

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/kafka/client.h"
#include "common/kafka/consumer.h"
#include "common/kafka/publisher.h"
#include "common/kafka/security.h"
#include "common/lifecycle/shutdown_signal.h"
#include "common/log/log.h"
#include "common/metrics/admin_server.h"
#include "common/transit/transit_keyring.h"

namespace klaxon::runtime {

// Settings every service reads (docs/configuration.md).
struct CommonSettings {
  log::Level log_level = log::Level::kInfo;
  std::string pii_hmac_key;
  // KLAXON_TRANSIT_KEYRING: seals and opens personal data in Kafka values (ADR 0013). Set once
  // the reader reports no error.
  std::shared_ptr<crypto::LocalKeyring> transit_keyring;
  config::HostPort admin;
  std::string kafka_brokers;  // comma-separated host:port
  kafka::Security kafka_security;
  std::string topic_prefix;  // validated: prefix + any Klaxon topic is a legal topic name

  // The full name of one of kafka/topics.h's topics in this deployment.
  std::string Topic(std::string_view name) const { return topic_prefix + std::string(name); }
};

CommonSettings ReadCommonSettings(config::Reader& reader);

class ServiceRuntime {
 public:
  // Builds the logger and starts the admin server (not ready until SetReady(true)).
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Create(std::string service,
                                                                const CommonSettings& settings);
  ~ServiceRuntime();

  const log::Logger& logger() const { return logger_; }
  prometheus::Registry& registry() { return *registry_; }
  void SetReady(bool ready) { ready_.store(ready); }
  // While ready, /readyz also asks `check` (cheap, thread-safe), e.g. whether any Twilio account
  // takes sends.
  void SetReadinessCheck(std::function<bool()> check);

  // Routes the Kafka clients' own events to this service's logger.
  kafka::LogFn KafkaLog() const;

  // Exports the lag reports of `group`'s consumer as the gauge
  // klaxon_consumer_lag{group, topic, partition}; pass it as ConsumerOptions::on_lag. A partition
  // that drops out of the reports (revoked in a rebalance) loses its series, so only its current
  // owner reports it. The returned function borrows this runtime.
  kafka::LagFn ConsumerLagGauge(std::string group);

  // Blocks until SIGTERM/SIGINT, or until `publisher` reports a fatal error (librdkafka lost its
  // idempotence guarantee): that cannot be repaired in-process, so the service drains and exits
  // non-zero for Kubernetes to restart it. Returns that error, or OK after a signal.
  absl::Status WaitForShutdown(lifecycle::ShutdownSignal& shutdown,
                               const kafka::KafkaPublisher& publisher) const;

 private:
  ServiceRuntime(std::string service, log::PhoneRedactor redactor, log::Level level);
  // /readyz: set ready, and the readiness check (if any) passes.
  bool Ready();

  log::StdoutSink sink_;
  log::Logger logger_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::atomic<bool> ready_ = false;
  std::mutex readiness_mutex_;
  std::function<bool()> readiness_check_;  // guarded by readiness_mutex_
  prometheus::Family<prometheus::Gauge>& consumer_lag_;
  std::mutex lag_mutex_;
  // The series each group's last report set, to remove those the next report lacks.
  std::map<std::string, std::map<std::pair<std::string, int32_t>, prometheus::Gauge*>>
      lag_gauges_;  // guarded by lag_mutex_
  std::unique_ptr<metrics::AdminServer> admin_;
};

}  // namespace klaxon::runtime
