#pragma once
// Keeps IntakeAdmission told how far behind each channel's workers are: every interval it asks a
// BacklogSource per channel (their consumer group's lag on the channel's request topic, read from
// Kafka) and reports the answer. A source that cannot answer reports "unknown", which admits:
// a Kafka hiccup on the probe must not stop paging. Exported as klaxon_intake_worker_backlog
// {channel} (-1 while unknown), so an SRE sees the figure admission control acts on.

#include <stop_token>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "klaxon/types/v1/types.pb.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/ingress/intake_admission.h"

namespace klaxon::ingress {

// Port: how many requests of one channel its workers have not taken yet. Called from one thread.
class BacklogSource {
 public:
  virtual ~BacklogSource() = default;
  virtual absl::StatusOr<int64_t> Backlog() = 0;
};

struct WatchedBacklog {
  types::v1::Channel channel;
  BacklogSource& source;  // borrowed
};

class BacklogMonitor {
 public:
  // Borrowed; they must outlive the monitor.
  BacklogMonitor(std::vector<WatchedBacklog> watched, IntakeAdmission& admission,
                 const log::Logger& logger, prometheus::Registry& registry);

  // Asks every source once and reports what it said. A failure is logged as
  // worker_backlog_unreadable when it starts and worker_backlog_readable when it ends.
  void Refresh();
  // Refresh() every `interval` until `stop` is requested. For a thread of the main's.
  void Run(std::stop_token stop, absl::Duration interval = absl::Seconds(1));

 private:
  struct Watch {
    types::v1::Channel channel;
    BacklogSource* source;
    prometheus::Gauge* gauge;
    bool readable = true;
  };

  std::vector<Watch> watches_;
  IntakeAdmission& admission_;
  const log::Logger& logger_;
};

}  // namespace klaxon::ingress
