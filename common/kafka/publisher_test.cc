#include "common/kafka/publisher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

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
