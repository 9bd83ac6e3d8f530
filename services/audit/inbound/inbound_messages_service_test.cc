// Runs InboundMessagesService in a real in-process gRPC server on a free loopback port, over an
// InboundMessageReader on a FakeInboundMessages.
#include "services/audit/inbound/inbound_messages_service.h"

#include <memory>
#include <string>

#include "common/prototime/prototime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/audit/testing/audit_keys.h"
#include "services/audit/testing/fake_inbound_messages.h"
#include "services/audit/testing/loopback_server.h"

namespace klaxon::audit::inbound_messages_service_test {
namespace {

using klaxon::alerts::v1::ListInboundMessagesRequest;
using klaxon::alerts::v1::ListInboundMessagesResponse;
using ::testing::HasSubstr;

constexpr char kBillingKey[] = "billing-secret-key";
constexpr char kPaymentsKey[] = "payments-secret-key";
constexpr char kReplyFrom[] = "+14155550100";
const absl::Time kReceived = absl::FromUnixMicros(1'700'000'000'250'000);

class InboundMessagesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One reply from Ana, whom billing paged.
    const std::string event_key = "sid:SM1:received:0";
    const SealedRecord sealed =
        sealing_.personal_data
            .Seal(kAuditEventsTable, event_key,
                  {{kEventPersonalColumn,
                    nlohmann::json{{"from", kReplyFrom}, {"body", "ACK"}}.dump()}})
            .value();
    messages_.Paged("billing", sealing_.blind_index.Compute(kReplyFrom),
                    kReceived - absl::Minutes(1));
    messages_.Received({.event_key = event_key,
                        .received_at = kReceived,
                        .message_sid = "SM1",
                        .personal_ciphertext = sealed.ciphertext.at(kEventPersonalColumn),
                        .data_key = sealed.wrapped_key},
                       sealing_.blind_index.Compute(kReplyFrom));
    ASSERT_NO_FATAL_FAILURE(server_.Start<klaxon::alerts::v1::InboundMessages>(service_, stub_));
  }

  void TearDown() override { server_.Shutdown(); }

  grpc::Status List(const ListInboundMessagesRequest& request,
                    ListInboundMessagesResponse* response, const char* api_key = kBillingKey) {
    return stub_->ListInboundMessages(testing::CallContext(api_key).get(), request, response);
  }

  FakeInboundMessages messages_;
  testing::AuditKeys sealing_;
  log::MemorySink sink_;
  log::Logger logger_{
      {.service = "audit"}, log::PhoneRedactor::Create("inbound-service-test-key").value(), sink_};
  InboundMessageReader reader_{messages_, sealing_.personal_data, sealing_.blind_index, logger_};
  auth::ApiKeyRegistry keys_ =
      auth::ApiKeyRegistry::Parse("billing=" + auth::HashApiKey(kBillingKey) +
                                  ",payments=" + auth::HashApiKey(kPaymentsKey))
          .value();
  InboundMessagesService service_{keys_, reader_};
  testing::LoopbackServer server_;
  std::unique_ptr<klaxon::alerts::v1::InboundMessages::Stub> stub_;
};

TEST_F(InboundMessagesServiceTest, ListsTheCallersRepliesWithSenderAndBody) {
  ListInboundMessagesResponse response;
  const grpc::Status status = List({}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.messages_size(), 1);
  const klaxon::alerts::v1::InboundMessage& message = response.messages(0);
  EXPECT_EQ(message.message_sid(), "SM1");
  EXPECT_EQ(message.from(), kReplyFrom);
  EXPECT_EQ(message.body(), "ACK");
  EXPECT_EQ(prototime::FromProto(message.received_at()), kReceived);
  EXPECT_FALSE(message.personal_data_shredded());
  EXPECT_TRUE(response.next_page_token().empty());
}

TEST_F(InboundMessagesServiceTest, AnotherCallerSeesNone) {
  ListInboundMessagesResponse response;
  ASSERT_TRUE(List({}, &response, kPaymentsKey).ok());
  EXPECT_EQ(response.messages_size(), 0);
}

TEST_F(InboundMessagesServiceTest, FiltersReachTheReader) {
  ListInboundMessagesRequest request;
  prototime::SetTimestamp(kReceived + absl::Seconds(1), request.mutable_received_from());
  ListInboundMessagesResponse response;
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(response.messages_size(), 0);

  request.Clear();
  prototime::SetTimestamp(kReceived, request.mutable_received_before());
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(response.messages_size(), 0) << "received_before excludes its own instant";
  prototime::SetTimestamp(kReceived + absl::Microseconds(1), request.mutable_received_before());
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(response.messages_size(), 1);

  request.Clear();
  request.set_from("not a number");
  const grpc::Status refused = List(request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("from:"));
}

TEST_F(InboundMessagesServiceTest, RefusesAMissingOrUnknownKey) {
  ListInboundMessagesResponse response;
  EXPECT_EQ(List({}, &response, nullptr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List({}, &response, "no-such-key").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace klaxon::audit::inbound_messages_service_test
