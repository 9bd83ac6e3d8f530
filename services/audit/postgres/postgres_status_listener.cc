#include "services/audit/postgres/postgres_status_listener.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "common/ids/uuid.h"
#include "common/pg/conninfo.h"
#include "pqxx/pqxx"

namespace klaxon::audit {
namespace {

// How long one wait for a notification lasts at most, so a stop request is noticed promptly.
constexpr absl::Duration kStopLatency = absl::Milliseconds(100);
// Used when the URL sets none, so an unreachable server cannot hold up the rechecks for long.
constexpr char kConnectTimeoutSeconds[] = "5";

// `conninfo` with a connect timeout; as is when it cannot be parsed (connecting then reports why).
std::string WithConnectTimeout(const std::string& conninfo) {
  absl::StatusOr<pg::ConnSettings> settings = pg::ParseConninfo(conninfo);
  if (!settings.ok()) return conninfo;
  settings->try_emplace("connect_timeout", kConnectTimeoutSeconds);
  return pg::FormatConninfo(*settings);
}

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& connection, const std::string& channel, StatusChangeSink& sink)
      : pqxx::notification_receiver(connection, channel), sink_(sink) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    // Anything but an alert id is not ours to act on; the recheck timer covers every alert.
    if (ids::IsUuid(payload)) sink_.AlertChanged(payload);
  }

 private:
  StatusChangeSink& sink_;
};

}  // namespace

PostgresStatusListener::PostgresStatusListener(std::string conninfo, const log::Logger& logger,
                                               StatusListenerOptions options)
    : conninfo_(WithConnectTimeout(conninfo)), logger_(logger), options_(std::move(options)) {}

void PostgresStatusListener::Run(StatusChangeSink& sink, std::stop_token stop) {
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<Receiver> receiver;  // before the connection it listens on is closed
  absl::Time next_recheck = absl::Now() + options_.recheck_interval;
  absl::Time next_connect = absl::Now();
  while (!stop.stop_requested()) {
    const absl::Time now = absl::Now();
    if (now >= next_recheck) {
      sink.RecheckAll();
      next_recheck = now + options_.recheck_interval;
    }
    if (connection == nullptr && now >= next_connect) {
      try {
        connection = std::make_unique<pqxx::connection>(conninfo_);
        receiver = std::make_unique<Receiver>(*connection, options_.channel, sink);
        // Whatever changed while nobody listened is found by reading again.
        sink.RecheckAll();
        logger_.Info("status_listener_connected", {{"channel", options_.channel}});
      } catch (const std::exception& e) {
        receiver.reset();
        connection.reset();
        next_connect = now + options_.reconnect_delay;
        logger_.Warn("status_listener_connect_failed", {{"error", std::string(e.what())}});
      }
    }
    const absl::Duration wait =
        std::clamp(next_recheck - absl::Now(), absl::ZeroDuration(), kStopLatency);
    if (connection == nullptr) {
      absl::SleepFor(wait);
      continue;
    }
    try {
      const int64_t micros = absl::ToInt64Microseconds(wait);
      connection->await_notification(static_cast<long>(micros / 1'000'000),
                                     static_cast<long>(micros % 1'000'000));
    } catch (const std::exception& e) {
      logger_.Warn("status_listener_disconnected", {{"error", std::string(e.what())}});
      receiver.reset();
      connection.reset();
      next_connect = absl::Now() + options_.reconnect_delay;
    }
  }
}

}  // namespace klaxon::audit
