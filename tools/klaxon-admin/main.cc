// klaxon-admin: operational steps run by the dev scripts and by a Kubernetes Job.
//   klaxon-admin create-topics   creates Klaxon's topics (common/kafka/topics.h) if missing
// Configuration comes from the environment like the services': KLAXON_KAFKA_BROKERS (required)
// and the Kafka security settings, read by the services' own loader (kafka::ReadClusterSettings),
// KLAXON_TOPIC_PREFIX (optional).

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/config/config.h"
#include "common/kafka/security.h"
#include "common/kafka/topics.h"

namespace {

int CreateTopicsCommand(std::optional<int32_t> partitions, int timeout_seconds) {
  klaxon::config::Reader reader(klaxon::config::FromProcessEnvironment());
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

}  // namespace

int main(int argc, char** argv) {
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

  CLI11_PARSE(app, argc, argv);
  if (create_topics->parsed()) return CreateTopicsCommand(partitions, timeout_seconds);
  return 2;
}
