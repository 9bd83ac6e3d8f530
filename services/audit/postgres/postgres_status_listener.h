#pragma once
// The one LISTEN klaxon_alert_status connection of an audit process (docs/adr/0008): every
// notification the write path sends for an alert whose status advanced becomes
// StatusChangeSink::AlertChanged(alert_id), and RecheckAll() runs every recheck_interval and
// after every (re)connection, so notifications lost while disconnected, or never sent, only
// delay a watch. The connection is its own (LISTEN needs a session that stays open), outside the
// pg::Database pool.

#include <stop_token>
#include <string>

#include "absl/time/time.h"
#include "common/log/log.h"
#include "services/audit/query/alert_watcher.h"

namespace klaxon::audit {

inline constexpr char kAlertStatusChannel[] = "klaxon_alert_status";

struct StatusListenerOptions {
  std::string channel = kAlertStatusChannel;
  absl::Duration recheck_interval = absl::Seconds(1);
  // Pause before connecting again after the connection failed.
  absl::Duration reconnect_delay = absl::Seconds(1);
};

class PostgresStatusListener {
 public:
  // `logger` is borrowed and must outlive the listener.
  PostgresStatusListener(std::string conninfo, const log::Logger& logger,
                         StatusListenerOptions options);

  // Listens until `stop` is requested (noticed within 100 ms). Never gives up: a lost connection
  // is logged and opened again while the rechecks go on.
  void Run(StatusChangeSink& sink, std::stop_token stop);

 private:
  const std::string conninfo_;
  const log::Logger& logger_;
  const StatusListenerOptions options_;
};

}  // namespace klaxon::audit
