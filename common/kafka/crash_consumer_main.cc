// kafka-crash-consumer: a helper of kafka_integration_test that dies the way a worker does under
// kill -9: while one message is mid-flight. It consumes `topic` as member of `group` with four
// messages in flight; the message "first" never finishes; once every other message is handled and
// two more auto-commit intervals have passed (so anything stored was committed), it _exits
// without leaving the group or committing again.
//
//   kafka-crash-consumer BROKERS TOPIC GROUP
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "common/kafka/consumer.h"
#include "common/messaging/thread_pool_handler.h"

namespace {

constexpr int kExitCrashed = 7;

class StuckOnFirst final : public klaxon::messaging::MessageHandler {
 public:
  absl::Status Handle(const klaxon::messaging::InboundMessage& message) override {
    std::unique_lock lock(mutex_);
    if (message.value == "first") {
      changed_.wait(lock, [] { return false; });  // mid-flight until the process dies
    }
    ++handled_;
    changed_.notify_all();
    return absl::OkStatus();
  }

  // Called on each lag report; each report comes after one more statistics interval.
  void Tick() {
    std::lock_guard lock(mutex_);
    if (handled_ >= wanted_) ++ticks_after_;
    changed_.notify_all();
  }

  void WaitForTicksAfterHandled(int wanted, int ticks) {
    std::unique_lock lock(mutex_);
    wanted_ = wanted;
    changed_.wait(lock, [&] { return handled_ >= wanted_ && ticks_after_ >= ticks; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int handled_ = 0;
  int wanted_ = 1 << 30;
  int ticks_after_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: kafka-crash-consumer BROKERS TOPIC GROUP\n");
    return 2;
  }
  StuckOnFirst handler;
  absl::StatusOr<std::unique_ptr<klaxon::kafka::KafkaConsumer>> consumer =
      klaxon::kafka::KafkaConsumer::Create(
          {.brokers = argv[1],
           .group_id = argv[3],
           .topics = {argv[2]},
           // The group notices the dead member after the shortest session brokers accept.
           .session_timeout = absl::Seconds(6),
           .properties = {{"auto.commit.interval.ms", "100"}},
           .on_lag = [&](const std::vector<klaxon::kafka::PartitionLag>&) { handler.Tick(); },
           .lag_interval = absl::Milliseconds(200),
           .max_in_flight = 4});
  if (!consumer.ok()) {
    std::fprintf(stderr, "%s\n", std::string(consumer.status().message()).c_str());
    return 1;
  }
  klaxon::messaging::ThreadPoolHandler pooled(handler, {.threads = 4});
  std::jthread runner([&](std::stop_token stop) { (void)(*consumer)->Run(pooled, stop); });
  // zero, second and third; "first" never finishes.
  handler.WaitForTicksAfterHandled(3, 2);
  std::fflush(nullptr);
  _exit(kExitCrashed);
}
