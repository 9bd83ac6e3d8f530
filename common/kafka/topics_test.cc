#include "common/kafka/topics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace klaxon::kafka {
namespace {

TEST(PrefixedTopicTest, PrependsPrefix) {
  EXPECT_EQ(PrefixedTopic("test-1a2b.", kSmsRequests).value(), "test-1a2b.klaxon.sms.requests");
}

TEST(PrefixedTopicTest, EmptyPrefixKeepsName) {
  EXPECT_EQ(PrefixedTopic("", kDlq).value(), "klaxon.dlq");
}

TEST(PrefixedTopicTest, RejectsIllegalCharacters) {
  EXPECT_EQ(PrefixedTopic("bad prefix/", kDlq).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrefixedTopicTest, RejectsNamesLongerThanKafkaAllows) {
  EXPECT_EQ(PrefixedTopic(std::string(240, 'p'), kDlq).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PrefixedTopicTest, RejectsEmptyAndReservedNames) {
  EXPECT_EQ(PrefixedTopic("", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PrefixedTopic(".", ".").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TopicsTest, NamesAreUniqueAndValid) {
  std::set<std::string_view> names;
  for (const TopicSpec& spec : kTopics) {
    EXPECT_TRUE(PrefixedTopic("", spec.name).ok()) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
  }
}

TEST(TopicsTest, DlqKeepsLongerThanWorkTopics) {
  for (const TopicSpec& spec : kTopics) {
    EXPECT_EQ(spec.partitions, 6) << spec.name;
    EXPECT_EQ(spec.retention, spec.name == kDlq ? absl::Hours(24 * 30) : absl::Hours(24 * 7))
        << spec.name;
  }
}

TEST(TopicsTest, EveryRetryTierIsCreated) {
  std::set<std::string_view> names;
  for (const TopicSpec& spec : kTopics) names.insert(spec.name);
  for (const auto& tiers : {kSmsRetryTiers, kVoiceRetryTiers}) {
    for (const RetryTier& tier : tiers) EXPECT_TRUE(names.contains(tier.topic)) << tier.topic;
  }
  for (const auto& tiers : {kSmsUrgentRetryTiers, kVoiceUrgentRetryTiers}) {
    for (const RetryTier& tier : tiers) EXPECT_TRUE(names.contains(tier.topic)) << tier.topic;
  }
}

TEST(TopicsTest, RetryTiersGrowFromSmallestDelay) {
  for (const auto& tiers : {kSmsRetryTiers, kVoiceRetryTiers}) {
    for (size_t i = 1; i < tiers.size(); ++i) {
      EXPECT_GT(tiers[i].delay, tiers[i - 1].delay) << tiers[i].topic;
    }
  }
  for (const auto& tiers : {kSmsUrgentRetryTiers, kVoiceUrgentRetryTiers}) {
    for (size_t i = 1; i < tiers.size(); ++i) {
      EXPECT_GT(tiers[i].delay, tiers[i - 1].delay) << tiers[i].topic;
    }
  }
}

TEST(CreateTopicsTest, RejectsMissingBrokers) {
  EXPECT_EQ(CreateTopics({.brokers = ""}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CreateTopicsTest, RejectsNonPositivePartitionOverride) {
  EXPECT_EQ(CreateTopics({.brokers = "127.0.0.1:1", .partitions = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CreateTopicsTest, RejectsIllegalPrefixBeforeConnecting) {
  EXPECT_EQ(CreateTopics({.brokers = "127.0.0.1:1", .prefix = "no/slash"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::kafka
