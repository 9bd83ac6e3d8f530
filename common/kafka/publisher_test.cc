#include "common/kafka/publisher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace klaxon::kafka {
namespace {

// A loopback address nothing listens on: the kernel picks a free port, which is released again
// before the test connects. Hermetic, unlike a fixed "surely unused" port.
std::string DeadBroker() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
}

LogFn Quiet() {
  return [](std::string_view, std::string_view, std::string_view) {};
}

const messaging::OutboundMessage kMessage{.topic = "klaxon.sms.requests", .key = "k", .value = "v"};

TEST(KafkaPublisherTest, DeadBrokerFailsWhenDeliveryTimesOut) {
  absl::StatusOr<std::unique_ptr<KafkaPublisher>> publisher = KafkaPublisher::Create(
      {.brokers = DeadBroker(), .delivery_timeout = absl::Seconds(1), .log = Quiet()});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  const absl::Time start = absl::Now();
  const absl::Status status = (*publisher)->Publish(kMessage, absl::Seconds(30));
  // The delivery report, not the caller's much longer timeout, ends the wait, and it knows the
  // message was never sent: not written, so publishing it again is safe.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), ::testing::HasSubstr("not written")) << status;
}

TEST(KafkaPublisherTest, DeadBrokerFailsWhenCallerTimeoutIsShorter) {
  absl::StatusOr<std::unique_ptr<KafkaPublisher>> publisher = KafkaPublisher::Create(
      {.brokers = DeadBroker(), .delivery_timeout = absl::Seconds(1), .log = Quiet()});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  const absl::Status status = (*publisher)->Publish(kMessage, absl::Milliseconds(100));
  // No report yet: the outcome is unknown.
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
}

// Collects PublishAsync outcomes and the threads they came from.
class Outcomes {
 public:
  messaging::PublishDone Expect() {
    return [this](absl::Status status) {
      std::lock_guard lock(mutex_);
      statuses_.push_back(std::move(status));
      threads_.push_back(std::this_thread::get_id());
      changed_.notify_all();
    };
  }
  // The outcomes once `count` arrived, or what arrived by `timeout`.
  std::vector<absl::Status> WaitFor(size_t count, absl::Duration timeout) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return statuses_.size() >= count; });
    return statuses_;
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<absl::Status> statuses_;
  std::vector<std::thread::id> threads_;
};

TEST(KafkaPublisherTest, PublishAsyncReturnsAtOnceAndReportsFromTheDeliveryThread) {
  absl::StatusOr<std::unique_ptr<KafkaPublisher>> publisher = KafkaPublisher::Create(
      {.brokers = DeadBroker(), .delivery_timeout = absl::Seconds(3), .log = Quiet()});
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  Outcomes outcomes;
  const absl::Time start = absl::Now();
  (*publisher)->PublishAsync(kMessage, outcomes.Expect());
  (*publisher)->PublishAsync(kMessage, outcomes.Expect());
  // The dead broker's answer (a failure) only comes after the delivery timeout: had either call
  // waited for it, its outcome would be here already. The bound is loose for the sanitizers.
  EXPECT_THAT(outcomes.WaitFor(1, absl::ZeroDuration()), ::testing::IsEmpty());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  const std::vector<absl::Status> statuses = outcomes.WaitFor(2, absl::Seconds(15));
  ASSERT_EQ(statuses.size(), 2u);
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  }
  for (std::thread::id thread : outcomes.threads()) EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(KafkaPublisherTest, DestructionReportsEveryQueuedMessageOnce) {
  Outcomes outcomes;
  {
    absl::StatusOr<std::unique_ptr<KafkaPublisher>> publisher = KafkaPublisher::Create(
        {.brokers = DeadBroker(), .delivery_timeout = absl::Seconds(2), .log = Quiet()});
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    for (int i = 0; i < 3; ++i) (*publisher)->PublishAsync(kMessage, outcomes.Expect());
    // Gives up at once; its report, when it comes, must reach no dead stack frame.
    EXPECT_EQ((*publisher)->Publish(kMessage, absl::Milliseconds(10)).code(),
              absl::StatusCode::kDeadlineExceeded);
  }
  // Each queued message ended once, none written; the abandoned Publish's report was only logged.
  const std::vector<absl::Status> statuses = outcomes.WaitFor(3, absl::ZeroDuration());
  ASSERT_EQ(statuses.size(), 3u);
  for (const absl::Status& status : statuses) EXPECT_FALSE(status.ok());
}

TEST(KafkaPublisherTest, RejectsWeakerAcks) {
  EXPECT_EQ(KafkaPublisher::Create({.brokers = "127.0.0.1:1", .properties = {{"acks", "1"}}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KafkaPublisherTest, RejectsOtherPartitioner) {
  EXPECT_EQ(
      KafkaPublisher::Create({.brokers = "127.0.0.1:1", .properties = {{"partitioner", "random"}}})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(KafkaPublisherTest, RejectsMissingBrokers) {
  EXPECT_EQ(KafkaPublisher::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaPublisherTest, RejectsUnknownProperty) {
  EXPECT_EQ(KafkaPublisher::Create({.brokers = "127.0.0.1:1", .properties = {{"no.such", "1"}}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::kafka
