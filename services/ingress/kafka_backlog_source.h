#pragma once
// BacklogSource over Kafka: the lag of a worker's consumer group on its request topic, read on a
// client of ingress's own that never joins the group (kafka::KafkaWatermarks).

#include <memory>
#include <string>
#include <utility>

#include "common/kafka/watermarks.h"
#include "services/ingress/backlog_monitor.h"

namespace klaxon::ingress {

class KafkaBacklogSource final : public BacklogSource {
 public:
  // `watermarks` was created with the worker's group (WatermarksOptions::group_id).
  KafkaBacklogSource(std::unique_ptr<kafka::KafkaWatermarks> watermarks, std::string topic)
      : watermarks_(std::move(watermarks)), topic_(std::move(topic)) {}

  absl::StatusOr<int64_t> Backlog() override {
    return watermarks_->GroupBacklog(topic_, absl::Seconds(2));
  }

 private:
  std::unique_ptr<kafka::KafkaWatermarks> watermarks_;
  const std::string topic_;
};

}  // namespace klaxon::ingress
