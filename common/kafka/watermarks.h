#pragma once
// Asks the brokers how far partitions have been written (high watermarks) and how many partitions
// a topic has, on a client of its own. A consumer's client cannot answer promptly: while no message
// arrives it keeps a fetch waiting at each broker (fetch.wait.max.ms, 500 ms by default), and a
// broker answers one request per connection at a time, so a watermark query sent on that client
// waits behind the fetch. This client never fetches, so a query costs one round trip.
//
// Given a consumer group (which it only reads, never joins), it also says how many messages of a
// topic that group has not committed yet: what ingress's admission control calls the workers'
// backlog.

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/client.h"
#include "common/kafka/security.h"

namespace klaxon::kafka {

struct WatermarksOptions {
  std::string brokers = {};  // host:port[,host:port]
  Security security = {};    // TLS and SASL (common/kafka/security.h)
  std::string client_id = "klaxon";
  std::string group_id = {};  // the group whose backlog GroupBacklog() reads; none: not asked
  LogFn log = StderrLog();
};

class KafkaWatermarks final : private ClientEvents {
 public:
  // kInvalidArgument for missing brokers or a configuration librdkafka rejects.
  static absl::StatusOr<std::unique_ptr<KafkaWatermarks>> Create(WatermarksOptions options);

  KafkaWatermarks(const KafkaWatermarks&) = delete;
  KafkaWatermarks& operator=(const KafkaWatermarks&) = delete;

  // The offset the next message produced to `topic`/`partition` will get. A moving leader is
  // asked again until `timeout`.
  absl::StatusOr<int64_t> HighWatermark(const std::string& topic, int32_t partition,
                                        absl::Duration timeout);

  // How many partitions `topic` has; with PartitionForKey() it says where a key's messages are.
  absl::StatusOr<int32_t> PartitionCount(const std::string& topic, absl::Duration timeout);

  // How many messages of `topic` the group (WatermarksOptions::group_id) has not committed: over
  // its partitions, the high watermark minus the committed offset (minus the low watermark where
  // the group committed nothing yet, since it will start there). Four requests at most, whatever
  // the partition count: metadata, committed offsets, end offsets, beginning offsets.
  // kFailedPrecondition without a group.
  absl::StatusOr<int64_t> GroupBacklog(const std::string& topic, absl::Duration timeout);

 private:
  explicit KafkaWatermarks(WatermarksOptions options) : options_(std::move(options)) {}
  void OnKafkaLog(std::string_view level, std::string_view detail) override;
  void OnKafkaError(rd_kafka_t* client, rd_kafka_resp_err_t error, const char* reason) override;

  const WatermarksOptions options_;
  KafkaPtr client_;
  // Serves the client's error callbacks; declared after client_ so it stops before client_ goes.
  std::unique_ptr<MainQueuePoller> poller_;
};

}  // namespace klaxon::kafka
