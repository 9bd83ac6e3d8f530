// klaxon-admin: operational steps run by the dev scripts and by a Kubernetes Job.
//   klaxon-admin create-topics   creates Klaxon's topics (common/kafka/topics.h) if missing
// Configuration comes from the environment like the services': KLAXON_KAFKA_BROKERS (required),
// KLAXON_TOPIC_PREFIX (optional).

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/kafka/topics.h"

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return {};
  return std::string(value);
}

int CreateTopicsCommand(std::optional<int32_t> partitions, int timeout_seconds) {
  const std::string brokers = Env("KLAXON_KAFKA_BROKERS");
  if (brokers.empty()) {
    std::fprintf(stderr, "klaxon-admin: KLAXON_KAFKA_BROKERS is not set (host:port[,host:port])\n");
    return 2;
  }
  const absl::StatusOr<std::vector<klaxon::kafka::TopicResult>> results =
      klaxon::kafka::CreateTopics({.brokers = brokers,
                                   .prefix = Env("KLAXON_TOPIC_PREFIX"),
                                   .partitions = partitions,
                                   .timeout = absl::Seconds(timeout_seconds)});
  if (!results.ok()) {
    std::fprintf(stderr, "klaxon-admin: create-topics on %s failed: %s\n", brokers.c_str(),
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
