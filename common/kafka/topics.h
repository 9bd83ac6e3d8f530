#pragma once
// The one list of Klaxon's Kafka topics with their partition counts and retention, and the admin
// steps that create them (the suite creates its topics itself; brokers run with
// auto.create.topics.enable=false) and delete them (a test's, once it is done). Every service names
// a topic as PrefixedTopic(prefix, kX) with the prefix from KLAXON_TOPIC_PREFIX, so a test run gets
// topics of its own on a shared broker.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/client.h"
#include "common/kafka/security.h"

namespace klaxon::kafka {

// The consumer group a worker service ("sms-worker", "voice-worker") reads its requests in:
// "klaxon-<service>". Ingress reads the group's lag for admission control.
inline std::string WorkerGroup(std::string_view service) {
  return "klaxon-" + std::string(service);
}

inline constexpr std::string_view kSmsRequests = "klaxon.sms.requests";
inline constexpr std::string_view kVoiceRequests = "klaxon.voice.requests";
// Critical alerts' own request topics (request_topics.h says which, docs/adr/0027): each worker
// drains them with a consumer of its own, so they never wait behind the normal topic's backlog.
inline constexpr std::string_view kSmsUrgentRequests = "klaxon.sms.requests.urgent";
inline constexpr std::string_view kVoiceUrgentRequests = "klaxon.voice.requests.urgent";
inline constexpr std::string_view kTwilioEvents = "klaxon.twilio.events";
inline constexpr std::string_view kDeliveryEvents = "klaxon.delivery.events";
inline constexpr std::string_view kDlq = "klaxon.dlq";

// A delayed retry tier (docs/adr/0007): a request on it is not handled before its not_before, and
// not_before is at most `delay` after it was published, so a tier consumer never waits longer
// than `delay` for one message.
struct RetryTier {
  std::string_view topic;  // without prefix
  absl::Duration delay;
};

// Smallest delay first. The same delays for both channels: a Retry-After or a short backoff fits
// 1s, backoff's middle range 10s and 1m, a sender's slow-down or a call's spacing 5m; a longer
// wait hops through the 5m tier.
inline constexpr std::array<RetryTier, 4> kSmsRetryTiers{{
    {"klaxon.sms.retry.1s", absl::Seconds(1)},
    {"klaxon.sms.retry.10s", absl::Seconds(10)},
    {"klaxon.sms.retry.1m", absl::Minutes(1)},
    {"klaxon.sms.retry.5m", absl::Minutes(5)},
}};
inline constexpr std::array<RetryTier, 4> kVoiceRetryTiers{{
    {"klaxon.voice.retry.1s", absl::Seconds(1)},
    {"klaxon.voice.retry.10s", absl::Seconds(10)},
    {"klaxon.voice.retry.1m", absl::Minutes(1)},
    {"klaxon.voice.retry.5m", absl::Minutes(5)},
}};
// Critical alerts' retries and deferrals (docs/adr/0027) wait on tiers of their own, so a page's
// backoff, scheduled send or next escalation step never waits behind normal deferrals that fill a
// shared tier to KLAXON_TIER_MAX_HELD. Two per channel, not four: a consumer holds each message on
// a timer of its own (ADR 0017), so within a tier the order of due times does not matter; what the
// split keeps apart is the short waits (backoffs, Retry-After, a sender's next slot) from the
// long ones (schedules, a chain's spacing, budget and quiet-hours holds), which would otherwise
// take the short ones' places for hours. A longer wait hops through the 5m tier.
inline constexpr std::array<RetryTier, 2> kSmsUrgentRetryTiers{{
    {"klaxon.sms.retry.urgent.1m", absl::Minutes(1)},
    {"klaxon.sms.retry.urgent.5m", absl::Minutes(5)},
}};
inline constexpr std::array<RetryTier, 2> kVoiceUrgentRetryTiers{{
    {"klaxon.voice.retry.urgent.1m", absl::Minutes(1)},
    {"klaxon.voice.retry.urgent.5m", absl::Minutes(5)},
}};

struct TopicSpec {
  std::string_view name;  // without prefix
  int32_t partitions;
  absl::Duration retention;
};

// Six partitions bound the parallelism of one consumer group per topic; a week of retention
// covers a long weekend of a stuck consumer. The DLQ keeps a month so an operator can replay it.
inline constexpr std::array<TopicSpec, 19> kTopics{{
    {kSmsRequests, 6, absl::Hours(24 * 7)},
    {kVoiceRequests, 6, absl::Hours(24 * 7)},
    {kSmsUrgentRequests, 6, absl::Hours(24 * 7)},
    {kVoiceUrgentRequests, 6, absl::Hours(24 * 7)},
    {kTwilioEvents, 6, absl::Hours(24 * 7)},
    {kDeliveryEvents, 6, absl::Hours(24 * 7)},
    {kSmsRetryTiers[0].topic, 6, absl::Hours(24 * 7)},
    {kSmsRetryTiers[1].topic, 6, absl::Hours(24 * 7)},
    {kSmsRetryTiers[2].topic, 6, absl::Hours(24 * 7)},
    {kSmsRetryTiers[3].topic, 6, absl::Hours(24 * 7)},
    {kVoiceRetryTiers[0].topic, 6, absl::Hours(24 * 7)},
    {kVoiceRetryTiers[1].topic, 6, absl::Hours(24 * 7)},
    {kVoiceRetryTiers[2].topic, 6, absl::Hours(24 * 7)},
    {kVoiceRetryTiers[3].topic, 6, absl::Hours(24 * 7)},
    {kSmsUrgentRetryTiers[0].topic, 6, absl::Hours(24 * 7)},
    {kSmsUrgentRetryTiers[1].topic, 6, absl::Hours(24 * 7)},
    {kVoiceUrgentRetryTiers[0].topic, 6, absl::Hours(24 * 7)},
    {kVoiceUrgentRetryTiers[1].topic, 6, absl::Hours(24 * 7)},
    {kDlq, 6, absl::Hours(24 * 30)},
}};

// `prefix` + `name`, checked against Kafka's rules for topic names (1 to 249 characters of
// [a-zA-Z0-9._-], not "." or ".."); kInvalidArgument otherwise.
absl::StatusOr<std::string> PrefixedTopic(std::string_view prefix, std::string_view name);

struct CreateTopicsOptions {
  std::string brokers = {};
  Security security = {};  // TLS and SASL (common/kafka/security.h)
  std::string prefix = {};
  // Replaces every topic's partition count when set (tests use fewer to join groups faster).
  std::optional<int32_t> partitions = {};
  // -1 takes the broker's default.replication.factor.
  int16_t replication_factor = -1;
  absl::Duration timeout = absl::Seconds(30);
  LogFn log = StderrLog();
};

struct TopicResult {
  std::string name = {};  // with prefix
  bool created = false;   // false when it already existed
};

// Creates every topic in kTopics under `options.prefix` and waits until the controller has
// created them. Topics that already exist are left as they are and reported with created=false,
// so running it again is harmless. kUnavailable/kDeadlineExceeded when the cluster cannot be
// reached within the timeout.
absl::StatusOr<std::vector<TopicResult>> CreateTopics(const CreateTopicsOptions& options);

struct DeleteTopicsOptions {
  std::string brokers = {};
  Security security = {};
  std::string prefix = {};
  absl::Duration timeout = absl::Seconds(30);
  LogFn log = StderrLog();
};

// Deletes every topic in kTopics under `options.prefix`, their messages with them: what a test
// that made topics of its own does when it is done, so a long-lived broker does not fill up with
// them. Topics that do not exist are skipped. Returns the names of the topics deleted; errors as
// CreateTopics.
absl::StatusOr<std::vector<std::string>> DeleteTopics(const DeleteTopicsOptions& options);

}  // namespace klaxon::kafka
