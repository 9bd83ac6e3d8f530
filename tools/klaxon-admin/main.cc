// klaxon-admin: operational steps run by the dev scripts, by a Kubernetes Job and by operators.
//   klaxon-admin create-topics   creates Klaxon's topics (common/kafka/topics.h) if missing
//   klaxon-admin channel disable <sms|voice> --reason "..."   switches a channel off
//   klaxon-admin channel enable <sms|voice>                   and on again (docs/adr/0012)
//   klaxon-admin channel status                               shows both switches
//   klaxon-admin check [--service NAME]... [--online]   validates the services' configuration,
//                                            starting nothing (config_check.h), and with --online
//                                            asks Twilio about accounts and senders
//                                            (online_check.h); exit 2 on any problem
// Configuration comes from the environment, read by the services' own loaders: KLAXON_KAFKA_BROKERS
// and the Kafka security settings (kafka::ReadClusterSettings) and KLAXON_TOPIC_PREFIX for the
// topics; KLAXON_REDIS_URL, its credentials (redis::ReadRedisOptions) and KLAXON_REDIS_KEY_PREFIX
// for the switches.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/channels/redis_channel_switches.h"
#include "common/config/config.h"
#include "common/kafka/security.h"
#include "common/kafka/topics.h"
#include "common/kafka/watermarks.h"
#include "common/redis/redis_client.h"
#include "common/runtime/process_hardening.h"
#include "tools/klaxon-admin/config_check.h"
#include "tools/klaxon-admin/online_check.h"

namespace {

int CreateTopicsCommand(std::optional<int32_t> partitions, int timeout_seconds) {
  klaxon::config::Reader reader = klaxon::config::Reader::ForProcess();
  const klaxon::kafka::ClusterSettings cluster = klaxon::kafka::ReadClusterSettings(reader);
  const std::string prefix = reader.Optional("KLAXON_TOPIC_PREFIX", "");
  klaxon::config::ExitOnError(reader.Finish(), "klaxon-admin");
  const absl::StatusOr<std::vector<klaxon::kafka::TopicResult>> results =
      klaxon::kafka::CreateTopics({.brokers = cluster.brokers,
                                   .security = cluster.security,
                                   .prefix = prefix,
                                   .partitions = partitions,
                                   .timeout = absl::Seconds(timeout_seconds)});
  if (!results.ok()) {
    std::fprintf(stderr, "klaxon-admin: create-topics on %s failed: %s\n", cluster.brokers.c_str(),
                 results.status().ToString().c_str());
    return 1;
  }
  for (const klaxon::kafka::TopicResult& topic : *results) {
    std::printf("%s %s\n", topic.created ? "created" : "exists ", topic.name.c_str());
  }
  return 0;
}

// Prints "<topic> <messages written>" for every Klaxon topic: the sum of its partitions' high
// watermarks (bench/cost-model.sh counts messages per alert with it). Exit codes: 0 done,
// 1 a topic could not be read, 2 configuration.
int TopicOffsetsCommand(int timeout_seconds) {
  klaxon::config::Reader reader = klaxon::config::Reader::ForProcess();
  const klaxon::kafka::ClusterSettings cluster = klaxon::kafka::ReadClusterSettings(reader);
  const std::string prefix = reader.Optional("KLAXON_TOPIC_PREFIX", "");
  klaxon::config::ExitOnError(reader.Finish(), "klaxon-admin");
  auto watermarks = klaxon::kafka::KafkaWatermarks::Create(
      {.brokers = cluster.brokers, .security = cluster.security, .client_id = "klaxon-admin"});
  if (!watermarks.ok()) {
    std::fprintf(stderr, "klaxon-admin: %s\n", watermarks.status().ToString().c_str());
    return 2;
  }
  const absl::Duration timeout = absl::Seconds(timeout_seconds);
  for (const klaxon::kafka::TopicSpec& spec : klaxon::kafka::kTopics) {
    const std::string topic = absl::StrCat(prefix, std::string(spec.name));
    absl::StatusOr<int32_t> partitions = (*watermarks)->PartitionCount(topic, timeout);
    int64_t messages = 0;
    for (int32_t partition = 0; partitions.ok() && partition < *partitions; ++partition) {
      absl::StatusOr<int64_t> high = (*watermarks)->HighWatermark(topic, partition, timeout);
      if (!high.ok()) {
        partitions = high.status();
        break;
      }
      messages += *high;
    }
    if (!partitions.ok()) {
      std::fprintf(stderr, "klaxon-admin: topic-offsets: %s on %s: %s\n", topic.c_str(),
                   cluster.brokers.c_str(), partitions.status().ToString().c_str());
      return 1;
    }
    std::printf("%s %lld\n", topic.c_str(), static_cast<long long>(messages));
  }
  return 0;
}

enum class SwitchCommand { kDisable, kEnable, kStatus };

// Exit codes: 0 done, 1 Redis failed, 2 usage or configuration.
int ChannelCommand(SwitchCommand command, const std::string& channel_name,
                   const std::string& reason) {
  klaxon::config::Reader reader = klaxon::config::Reader::ForProcess();
  const klaxon::redis::RedisOptions options =
      klaxon::redis::ReadRedisOptions(reader, {.pool_size = 1});
  const std::string prefix = reader.Optional("KLAXON_REDIS_KEY_PREFIX", "klaxon:");
  klaxon::config::ExitOnError(reader.Finish(), "klaxon-admin");
  absl::StatusOr<std::unique_ptr<klaxon::redis::RedisClient>> redis =
      klaxon::redis::RedisClient::Create(options);
  if (!redis.ok()) {
    std::fprintf(stderr, "klaxon-admin: %s\n", redis.status().ToString().c_str());
    return 1;
  }
  klaxon::channels::RedisChannelSwitches switches(**redis, prefix);
  if (command == SwitchCommand::kStatus) {
    absl::StatusOr<std::map<klaxon::channels::Channel, std::string>> off = switches.ReadOff();
    if (!off.ok()) {
      std::fprintf(stderr, "klaxon-admin: %s\n", off.status().ToString().c_str());
      return 1;
    }
    for (const klaxon::channels::Channel channel : klaxon::channels::kSwitchedChannels) {
      const std::string name(klaxon::channels::ChannelName(channel));
      const auto found = off->find(channel);
      if (found == off->end()) {
        std::printf("%s enabled\n", name.c_str());
      } else {
        std::printf("%s disabled: %s\n", name.c_str(), found->second.c_str());
      }
    }
    return 0;
  }
  absl::StatusOr<klaxon::channels::Channel> channel =
      klaxon::channels::ParseChannelName(channel_name);
  if (!channel.ok()) {
    std::fprintf(stderr, "klaxon-admin: %s\n", std::string(channel.status().message()).c_str());
    return 2;
  }
  const absl::Status done = command == SwitchCommand::kDisable ? switches.TurnOff(*channel, reason)
                                                               : switches.TurnOn(*channel);
  if (!done.ok()) {
    std::fprintf(stderr, "klaxon-admin: %s\n", done.ToString().c_str());
    return absl::IsInvalidArgument(done) ? 2 : 1;
  }
  std::printf("%s %s\n", channel_name.c_str(),
              command == SwitchCommand::kDisable ? "disabled" : "enabled");
  return 0;
}

// Prints "<service>: ok" or "<service>: <what stops it>" for each service checked, then with
// `online` "<account or sender>: ok", "...: not checked (...)" or "...: <what Twilio said>" for
// each account and sender. Exit codes: 0 all is well, 2 something is not.
int CheckCommand(const std::vector<std::string>& services, bool online) {
  const klaxon::config::Environment environment = klaxon::config::FromProcessEnvironment();
  bool ok = true;
  for (const klaxon::admin::ServiceCheck& check :
       klaxon::admin::CheckConfiguration(environment, services)) {
    ok = ok && check.status.ok();
    std::printf("%s: %s\n", check.service.c_str(),
                check.status.ok() ? "ok" : std::string(check.status.message()).c_str());
  }
  if (!online || !ok) return ok ? 0 : 2;
  const std::vector<klaxon::admin::OnlineFinding> findings =
      klaxon::admin::CheckOnline(environment, services);
  if (findings.empty()) {
    std::printf("online: nothing to ask Twilio (only the workers call its REST API)\n");
  }
  for (const klaxon::admin::OnlineFinding& finding : findings) {
    ok = ok && finding.status.ok();
    const std::string said =
        !finding.checked      ? "not checked (Twilio has no lookup for an alphanumeric sender ID)"
        : finding.status.ok() ? "ok"
                              : std::string(finding.status.message());
    std::printf("%s: %s\n", finding.subject.c_str(), said.c_str());
  }
  return ok ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  klaxon::runtime::HardenProcessOrExit("klaxon-admin");
  CLI::App app{"Klaxon operational commands"};
  app.require_subcommand(1);

  CLI::App* create_topics =
      app.add_subcommand("create-topics", "Create Klaxon's Kafka topics; existing ones are kept");
  std::optional<int32_t> partitions;
  int timeout_seconds = 30;
  create_topics
      ->add_option("--partitions", partitions, "Partitions of every topic instead of the defaults")
      ->check(CLI::PositiveNumber);
  create_topics->add_option("--timeout", timeout_seconds, "Seconds to wait for the cluster")
      ->check(CLI::PositiveNumber);

  CLI::App* topic_offsets = app.add_subcommand(
      "topic-offsets", "Print how many messages each Klaxon topic has had written to it");
  topic_offsets->add_option("--timeout", timeout_seconds, "Seconds to wait for the cluster")
      ->check(CLI::PositiveNumber);

  CLI::App* channel = app.add_subcommand(
      "channel", "Switch a channel (sms, voice) off or on for every replica, without a deploy");
  channel->require_subcommand(1);
  std::string channel_name;
  std::string reason;
  CLI::App* disable = channel->add_subcommand(
      "disable", "Refuse new alerts of the channel and hold its queued sends until enabled");
  disable->add_option("channel", channel_name, "sms or voice")->required();
  disable->add_option("--reason", reason, "Why, shown to callers that are refused")->required();
  CLI::App* enable = channel->add_subcommand("enable", "Take and send the channel's alerts again");
  enable->add_option("channel", channel_name, "sms or voice")->required();
  CLI::App* status = channel->add_subcommand("status", "Show each channel's switch");

  CLI::App* check = app.add_subcommand(
      "check", "Validate the services' configuration from this environment, starting nothing");
  std::vector<std::string> services;
  check->add_option("--service", services,
                    "Only this service's (ingress, sms-worker, voice-worker, audit); repeatable");
  bool online = false;
  check->add_flag("--online", online,
                  "Also ask Twilio: each account's credentials, and that each sender is its "
                  "account's (reads only), for the workers --service names (none: both)");

  CLI11_PARSE(app, argc, argv);
  if (check->parsed()) return CheckCommand(services, online);
  if (create_topics->parsed()) return CreateTopicsCommand(partitions, timeout_seconds);
  if (topic_offsets->parsed()) return TopicOffsetsCommand(timeout_seconds);
  if (disable->parsed()) return ChannelCommand(SwitchCommand::kDisable, channel_name, reason);
  if (enable->parsed()) return ChannelCommand(SwitchCommand::kEnable, channel_name, "");
  if (status->parsed()) return ChannelCommand(SwitchCommand::kStatus, "", "");
  return 2;
}
