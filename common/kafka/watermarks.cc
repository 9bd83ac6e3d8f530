#include "common/kafka/watermarks.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::kafka {
namespace {

// The high watermark of `topic`/`partition` as `client` sees it, asking again while the
// partition's leader moves (a topic just created answers "not leader" for a moment), within
// `timeout`.
struct Watermarks {
  int64_t low = 0;
  int64_t high = 0;
};

absl::StatusOr<Watermarks> QueryWatermarks(rd_kafka_t* client, const std::string& topic,
                                           int32_t partition, absl::Duration timeout) {
  constexpr absl::Duration kLeaderRetry = absl::Milliseconds(50);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    Watermarks marks;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        client, topic.c_str(), partition, &marks.low, &marks.high,
        ToTimeoutMs(std::max(deadline - absl::Now(), absl::ZeroDuration())));
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return marks;
    const bool leader_moving = error == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                               error == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
    if (!leader_moving || absl::Now() + kLeaderRetry >= deadline) {
      return KafkaErrorToStatus(error, absl::StrCat("watermarks of ", topic, " [", partition, "]"));
    }
    absl::SleepFor(kLeaderRetry);
  }
}

// Sets each partition's offset in `partitions` to its end (RD_KAFKA_OFFSET_END) or beginning
// (RD_KAFKA_OFFSET_BEGINNING) offset: one ListOffsets request per leader, not one per partition
// (rd_kafka_offsets_for_times passes these logical offsets to the broker as its timestamps).
absl::Status ListOffsets(rd_kafka_t* client, rd_kafka_topic_partition_list_t& partitions,
                         int64_t logical_offset, absl::Duration timeout) {
  for (int i = 0; i < partitions.cnt; ++i) partitions.elems[i].offset = logical_offset;
  if (const rd_kafka_resp_err_t error =
          rd_kafka_offsets_for_times(client, &partitions, ToTimeoutMs(timeout));
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(error, "list offsets");
  }
  for (int i = 0; i < partitions.cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = partitions.elems[i];
    if (partition.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorToStatus(partition.err, absl::StrCat("offsets of ", partition.topic, " [",
                                                            partition.partition, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaWatermarks>> KafkaWatermarks::Create(
    WatermarksOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("no kafka brokers given");
  if (!options.log) options.log = StderrLog();
  // A consumer client with nothing assigned: it fetches nothing. With a group it can read the
  // group's committed offsets, without joining it (it never subscribes).
  std::map<std::string, std::string> properties;
  if (!options.group_id.empty()) properties["group.id"] = options.group_id;
  absl::StatusOr<ConfPtr> conf =
      MakeClientConf(options.brokers, options.security, options.client_id, properties);
  if (!conf.ok()) return conf.status();
  // The callbacks reach the object through the configuration's opaque, so it must exist before
  // its client.
  auto watermarks = absl::WrapUnique(new KafkaWatermarks(std::move(options)));
  InstallClientEvents(conf->get(), watermarks.get());
  absl::StatusOr<KafkaPtr> client = MakeClient(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!client.ok()) return client.status();
  watermarks->client_ = *std::move(client);
  watermarks->poller_ = std::make_unique<MainQueuePoller>(watermarks->client_.get());
  return watermarks;
}

absl::StatusOr<int64_t> KafkaWatermarks::HighWatermark(const std::string& topic, int32_t partition,
                                                       absl::Duration timeout) {
  absl::StatusOr<Watermarks> marks = QueryWatermarks(client_.get(), topic, partition, timeout);
  if (!marks.ok()) return marks.status();
  return marks->high;
}

absl::StatusOr<int32_t> KafkaWatermarks::PartitionCount(const std::string& topic,
                                                        absl::Duration timeout) {
  return FetchPartitionCount(client_.get(), topic, timeout);
}

absl::StatusOr<int64_t> KafkaWatermarks::GroupBacklog(const std::string& topic,
                                                      absl::Duration timeout) {
  if (options_.group_id.empty()) {
    return absl::FailedPreconditionError("GroupBacklog needs WatermarksOptions.group_id");
  }
  const absl::Time deadline = absl::Now() + timeout;
  auto left = [deadline] { return std::max(deadline - absl::Now(), absl::ZeroDuration()); };
  absl::StatusOr<int32_t> partitions = FetchPartitionCount(client_.get(), topic, timeout);
  if (!partitions.ok()) return partitions.status();
  PartitionListPtr committed(rd_kafka_topic_partition_list_new(*partitions));
  for (int32_t partition = 0; partition < *partitions; ++partition) {
    rd_kafka_topic_partition_list_add(committed.get(), topic.c_str(), partition);
  }
  if (const rd_kafka_resp_err_t error =
          rd_kafka_committed(client_.get(), committed.get(), ToTimeoutMs(left()));
      error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaErrorToStatus(
        error, absl::StrCat("committed offsets of group ", options_.group_id, " on ", topic));
  }
  // The group starts a partition it never committed to at the partition's beginning.
  PartitionListPtr ends(rd_kafka_topic_partition_list_copy(committed.get()));
  PartitionListPtr beginnings(rd_kafka_topic_partition_list_new(committed->cnt));
  for (int i = 0; i < committed->cnt; ++i) {
    if (committed->elems[i].offset < 0) {
      rd_kafka_topic_partition_list_add(beginnings.get(), topic.c_str(),
                                        committed->elems[i].partition);
    }
  }
  if (absl::Status listed = ListOffsets(client_.get(), *ends, RD_KAFKA_OFFSET_END, left());
      !listed.ok()) {
    return listed;
  }
  if (beginnings->cnt > 0) {
    if (absl::Status listed =
            ListOffsets(client_.get(), *beginnings, RD_KAFKA_OFFSET_BEGINNING, left());
        !listed.ok()) {
      return listed;
    }
  }
  int64_t backlog = 0;
  for (int i = 0; i < committed->cnt; ++i) {
    const rd_kafka_topic_partition_t& partition = committed->elems[i];
    int64_t start = partition.offset;
    if (start < 0) {
      start =
          rd_kafka_topic_partition_list_find(beginnings.get(), topic.c_str(), partition.partition)
              ->offset;
    }
    const int64_t end =
        rd_kafka_topic_partition_list_find(ends.get(), topic.c_str(), partition.partition)->offset;
    backlog += std::max<int64_t>(end - start, 0);
  }
  return backlog;
}

void KafkaWatermarks::OnKafkaLog(std::string_view level, std::string_view detail) {
  options_.log(level, "kafka_watermarks_log", detail);
}

void KafkaWatermarks::OnKafkaError(rd_kafka_t* /*client*/, rd_kafka_resp_err_t error,
                                   const char* reason) {
  // Nothing is produced or consumed here: an error only matters to the query that meets it.
  const std::optional<std::string> link =
      DescribeLinkError(error, reason, options_.brokers, options_.security);
  options_.log(link ? "error" : "warn", "kafka_watermarks_error",
               link ? *link : absl::StrCat(rd_kafka_err2name(error), ": ", reason));
}

}  // namespace klaxon::kafka
