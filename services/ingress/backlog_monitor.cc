#include "services/ingress/backlog_monitor.h"

#include <string>

#include "common/channels/channel_switches.h"
#include "common/lifecycle/sleep.h"

namespace klaxon::ingress {

BacklogMonitor::BacklogMonitor(std::vector<WatchedBacklog> watched, IntakeAdmission& admission,
                               const log::Logger& logger, prometheus::Registry& registry)
    : admission_(admission), logger_(logger) {
  prometheus::Family<prometheus::Gauge>& backlog =
      prometheus::BuildGauge()
          .Name("klaxon_intake_worker_backlog")
          .Help(
              "Requests of a channel its workers have not taken yet, as ingress's admission "
              "control last read it (their group's lag; -1 while it cannot be read); above "
              "KLAXON_INTAKE_MAX_BACKLOG, SendAlert answers RESOURCE_EXHAUSTED")
          .Register(registry);
  for (const WatchedBacklog& entry : watched) {
    prometheus::Gauge& gauge =
        backlog.Add({{"channel", std::string(channels::ChannelName(entry.channel))}});
    gauge.Set(-1);
    watches_.push_back({.channel = entry.channel, .source = &entry.source, .gauge = &gauge});
  }
}

void BacklogMonitor::Refresh() {
  for (Watch& watch : watches_) {
    const absl::StatusOr<int64_t> backlog = watch.source->Backlog();
    const std::string channel(channels::ChannelName(watch.channel));
    if (backlog.ok()) {
      admission_.ReportBacklog(watch.channel, *backlog);
      watch.gauge->Set(static_cast<double>(*backlog));
      if (!watch.readable) logger_.Info("worker_backlog_readable", {{"channel", channel}});
    } else {
      admission_.ReportBacklog(watch.channel, std::nullopt);
      watch.gauge->Set(-1);
      if (watch.readable) {
        logger_.Warn("worker_backlog_unreadable",
                     {{"channel", channel},
                      {"error", std::string(backlog.status().message())},
                      {"effect",
                       "admission control only bounds SendAlerts in flight until it "
                       "can be read again; check ingress's link to Kafka"}});
      }
    }
    watch.readable = backlog.ok();
  }
}

void BacklogMonitor::Run(std::stop_token stop, absl::Duration interval) {
  while (!stop.stop_requested()) {
    Refresh();
    lifecycle::SleepUnlessStopped(interval, stop);
  }
}

}  // namespace klaxon::ingress
