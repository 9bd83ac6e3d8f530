// bench-delivery: end-to-end load. It drives SendAlert open loop (sendalert_driver.h) and follows
// every accepted alert to Twilio's acceptance through klaxon.delivery.events (delivery_tally.h),
// reporting the achieved rate, the latency from SendAlert's due time to acceptance, and the
// alerts never accepted. Prints one JSON line on stdout and a summary on stderr; exits 3 when an
// alert went missing or the p99 is over --p99-target.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/delivery_tally.h"
#include "bench/load_flags.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "bench/sendalert_driver.h"
#include "common/kafka/consumer.h"
#include "common/kafka/topics.h"
#include "common/messaging/thread_pool_handler.h"
#include "google/protobuf/util/time_util.h"
#include "klaxon/events/v1/events.pb.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitShortfall = 3;

struct Flags : LoadFlags {
  Flags() : LoadFlags{.target = "127.0.0.1:50051", .rate = 100, .concurrency = 2000} {}
  std::string brokers;
  std::string topic_prefix;
  std::string recipient = "+14155550100";
  double warmup_timeout_seconds = 60;
  double drain_seconds = 30;
  double p99_target_ms = 250;
};

double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

WallTime ToWall(const google::protobuf::Timestamp& timestamp) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(timestamp))));
}

// Feeds the delivery outcomes it consumes into the tally.
class OutcomeFeed final : public messaging::MessageHandler {
 public:
  explicit OutcomeFeed(DeliveryTally& tally) : tally_(tally) {}

  absl::Status Handle(const messaging::InboundMessage& message) override {
    events::v1::DeliveryEvent event;
    if (!event.ParseFromString(message.value) || !event.has_outcome()) return absl::OkStatus();
    tally_.Outcome(event.header().alert_id(),
                   events::v1::DeliveryOutcome::Kind_Name(event.outcome().kind()),
                   ToWall(event.header().occurred_at()));
    return absl::OkStatus();
  }

 private:
  DeliveryTally& tally_;
};

// Sends probe alerts until one is seen accepted: the whole path works and the outcome consumer
// is assigned its partitions (it starts at the end of the topic), so no measured alert's outcome
// can slip past it.
bool WarmUp(alerts::v1::AlertIntake::Stub& stub, const Flags& flags, const DeliveryTally& tally) {
  const auto give_up = std::chrono::steady_clock::now() + FromSeconds(flags.warmup_timeout_seconds);
  const std::string run = absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()));
  for (int probe = 0; std::chrono::steady_clock::now() < give_up; ++probe) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", flags.api_key));
    context.set_deadline(std::chrono::system_clock::now() + FromSeconds(flags.rpc_timeout_seconds));
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(flags.recipient);
    request.set_text(absl::StrCat("klaxon bench probe ", run, " #", probe));
    request.set_idempotency_key(absl::StrCat("bench-probe-", run, "-", probe));
    alerts::v1::SendAlertResponse response;
    if (!stub.SendAlert(&context, request, &response).ok()) continue;
    const auto next_probe = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < next_probe) {
      if (tally.IsAccepted(response.alert_id())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

nlohmann::json ToJson(const DeliverySummary& summary) {
  return {
      {"sent", summary.sent},
      {"accepted", summary.accepted},
      {"missing", summary.missing},
      {"outcomes", summary.outcomes},
      {"accepted_rate", AcceptedRate(summary)},
      {"span_s", std::chrono::duration<double>(summary.span).count()},
      {"latency_ms",
       {{"p50", Ms(summary.latency.p50)},
        {"p90", Ms(summary.latency.p90)},
        {"p99", Ms(summary.latency.p99)},
        {"p999", Ms(summary.latency.p999)},
        {"max", Ms(summary.latency.max)}}},
  };
}

std::string ToHumanSummary(const DeliverySummary& summary) {
  std::string outcomes;
  for (const auto& [kind, count] : summary.outcomes)
    absl::StrAppend(&outcomes, " ", kind, " ", count);
  return absl::StrFormat(
      "SendAlert to accepted by Twilio: %d sent, %d accepted, %d missing, %.2f/s over %.3fs\n"
      "  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
      "  outcomes:%s\n",
      summary.sent, summary.accepted, summary.missing, AcceptedRate(summary),
      std::chrono::duration<double>(summary.span).count(), Ms(summary.latency.p50),
      Ms(summary.latency.p90), Ms(summary.latency.p99), Ms(summary.latency.p999),
      Ms(summary.latency.max), outcomes);
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"End-to-end load: SendAlert to accepted by Twilio.", "bench-delivery"};
  AddLoadFlags(app, flags,
               {.target = "ingress gRPC address",
                .target_env = "KLAXON_INGRESS_ADDR",
                .requests = "alerts",
                .calls = "SendAlert calls"});
  app.add_option("--brokers", flags.brokers, "Kafka bootstrap servers [env KLAXON_KAFKA_BROKERS]")
      ->envname("KLAXON_KAFKA_BROKERS")
      ->required();
  app.add_option("--topic-prefix", flags.topic_prefix, "the suite's topic prefix")
      ->envname("KLAXON_TOPIC_PREFIX");
  app.add_option("--recipient", flags.recipient, "E.164 number every alert goes to")
      ->capture_default_str();
  app.add_option("--warmup-timeout", flags.warmup_timeout_seconds,
                 "how long probe alerts may take to come through before the run, seconds")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--drain", flags.drain_seconds,
                 "how long to wait after the last SendAlert for outstanding acceptances, seconds")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--p99-target", flags.p99_target_ms, "p99 SendAlert-to-accepted goal, ms")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }
  const std::optional<OpenLoopSchedule> schedule = ScheduleOf("bench-delivery", flags);
  if (!schedule.has_value()) return kExitUsage;
  absl::StatusOr<std::string> topic =
      kafka::PrefixedTopic(flags.topic_prefix, kafka::kDeliveryEvents);
  if (!topic.ok()) {
    std::cerr << "bench-delivery: " << topic.status().message() << "\n";
    return kExitUsage;
  }

  DeliveryTally tally;
  OutcomeFeed feed(tally);
  absl::StatusOr<std::unique_ptr<kafka::KafkaConsumer>> consumer = kafka::KafkaConsumer::Create(
      {.brokers = flags.brokers,
       .group_id = absl::StrFormat("bench-delivery-%016x", absl::Uniform<uint64_t>(absl::BitGen())),
       .topics = {*topic},
       .client_id = "bench-delivery",
       // Only this run's outcomes matter, not the topic's history.
       .properties = {{"auto.offset.reset", "latest"}},
       .log = [](std::string_view level, std::string_view event, std::string_view detail) {
         if (level != "debug" && level != "info") {
           std::cerr << "bench-delivery: " << event << ": " << detail << "\n";
         }
       }});
  if (!consumer.ok()) {
    std::cerr << "bench-delivery: " << consumer.status().message() << "\n";
    return kExitSetupFailed;
  }
  messaging::ThreadPoolHandler pooled_feed(feed, {.threads = 1});
  std::jthread consuming([&](std::stop_token stop) { (void)(*consumer)->Run(pooled_feed, stop); });

  const std::shared_ptr<grpc::Channel> channel = ConnectToTarget("bench-delivery", flags);
  if (channel == nullptr) return kExitSetupFailed;
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub = alerts::v1::AlertIntake::NewStub(channel);
  if (!WarmUp(*stub, flags, tally)) {
    std::cerr << "bench-delivery: no probe alert was accepted within "
              << flags.warmup_timeout_seconds << " s; is the suite up (workers, sandbox)?\n";
    return kExitSetupFailed;
  }

  // The workers stamp outcomes with the wall clock; due times are on the steady clock.
  const auto steady_origin = std::chrono::steady_clock::now();
  const WallTime wall_origin = std::chrono::system_clock::now();
  SendAlertLoad load(
      *stub->async(),
      {.target = flags.target,
       .api_key = flags.api_key,
       .rate = flags.rate,
       .duration = FromSeconds(flags.duration_seconds),
       .concurrency = flags.concurrency,
       .recipient = flags.recipient,
       .rpc_timeout = FromSeconds(flags.rpc_timeout_seconds)},
      *schedule, [&](const std::string& alert_id, std::chrono::steady_clock::time_point due) {
        tally.Sent(alert_id, wall_origin + std::chrono::duration_cast<WallTime::duration>(
                                               due - steady_origin));
      });
  const LoadReport report = load.Run();
  const auto drain_until = std::chrono::steady_clock::now() + FromSeconds(flags.drain_seconds);
  while (tally.Waiting() > 0 && std::chrono::steady_clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const DeliverySummary summary = tally.Summarize();

  nlohmann::json line = {{"sendalert", bench::ToJson(report)}, {"delivery", ToJson(summary)}};
  std::cout << line.dump() << std::endl;
  std::cerr << bench::ToHumanSummary(report) << ToHumanSummary(summary);
  const bool shortfall = summary.missing > 0 || !report.errors.empty() ||
                         Ms(summary.latency.p99) > flags.p99_target_ms;
  return shortfall ? kExitShortfall : EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
