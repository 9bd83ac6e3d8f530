#include "common/kafka/consumer.h"

#include <gtest/gtest.h>

namespace klaxon::kafka {
namespace {

ConsumerOptions Valid() {
  return {.brokers = "127.0.0.1:1",
          .group_id = "g",
          .topics = {"klaxon.sms.requests"},
          .log = [](std::string_view, std::string_view, std::string_view) {}};
}

TEST(KafkaConsumerTest, RejectsMissingGroup) {
  ConsumerOptions options = Valid();
  options.group_id.clear();
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, RejectsMissingTopics) {
  ConsumerOptions options = Valid();
  options.topics.clear();
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, RejectsAutomaticOffsetStore) {
  ConsumerOptions options = Valid();
  options.properties = {{"enable.auto.offset.store", "true"}};
  EXPECT_EQ(KafkaConsumer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaConsumerTest, CreatesWithoutReachableBroker) {
  // Connecting is asynchronous; an unreachable cluster shows in Run(), not in Create().
  EXPECT_TRUE(KafkaConsumer::Create(Valid()).ok());
}

}  // namespace
}  // namespace klaxon::kafka
