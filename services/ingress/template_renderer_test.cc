// GrpcTemplateRenderer against a real in-process gRPC server standing in for audit's Templates:
// it renders as the caller, maps audit out of reach to UNAVAILABLE with a retry hint, and refuses
// a render beyond its cap at once instead of holding another intake thread.
#include "services/ingress/template_renderer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "common/grpcutil/grpcutil.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::RenderedTemplate;
using alerts::v1::RenderTemplateRequest;
using ::testing::HasSubstr;

// Audit's Templates as far as RenderTemplate goes: answers with the request's template name as
// the text, once `release` is fulfilled; records the authorization header it was called with.
class HeldTemplates final : public alerts::v1::Templates::Service {
 public:
  grpc::Status RenderTemplate(grpc::ServerContext* context, const RenderTemplateRequest* request,
                              RenderedTemplate* response) override {
    const auto authorization = context->client_metadata().find("authorization");
    if (authorization != context->client_metadata().end()) {
      asked_authorization = std::string(authorization->second.data(), authorization->second.size());
    }
    entered.set_value();
    released.wait();
    response->set_text(request->template_().name());
    return grpc::Status::OK;
  }

  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::string asked_authorization;
};

alerts::v1::TemplateRef Ref() {
  alerts::v1::TemplateRef ref;
  ref.set_name("disk-full");
  return ref;
}

class GrpcTemplateRendererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<grpcutil::StartedServer> started =
        grpcutil::StartServer({.address = "127.0.0.1:0",
                               .services = {audit_},
                               .credentials = grpc::InsecureServerCredentials()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(started->port),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  HeldTemplates audit_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcTemplateRendererTest, RendersWithTheCallersKey) {
  GrpcTemplateRenderer renderer(channel_, absl::Seconds(10), 1);
  audit_.release.set_value();
  const absl::StatusOr<RenderedTemplate> rendered =
      renderer.Render("billing-key", types::v1::CHANNEL_SMS, Ref());
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->text(), "disk-full");
  EXPECT_EQ(audit_.asked_authorization, "Bearer billing-key");
}

TEST_F(GrpcTemplateRendererTest, ARenderBeyondTheCapIsRefusedAtOnceAndTheCapFreesAgain) {
  GrpcTemplateRenderer renderer(channel_, absl::Seconds(10), 1);
  std::future<absl::StatusOr<RenderedTemplate>> held = std::async(std::launch::async, [&] {
    return renderer.Render("billing-key", types::v1::CHANNEL_SMS, Ref());
  });
  audit_.entered.get_future().wait();

  const absl::StatusOr<RenderedTemplate> refused =
      renderer.Render("billing-key", types::v1::CHANNEL_SMS, Ref());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("retry with the same idempotency_key"));

  audit_.release.set_value();
  ASSERT_TRUE(held.get().ok());
  audit_.entered = std::promise<void>();
  EXPECT_TRUE(renderer.Render("billing-key", types::v1::CHANNEL_SMS, Ref()).ok())
      << "the finished render gave its place back";
}

TEST(GrpcTemplateRendererUnreachableTest, AuditOutOfReachIsUnavailableAskingForARetry) {
  // Nothing listens on port 1.
  GrpcTemplateRenderer renderer(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
      absl::Milliseconds(500), 1);
  const absl::StatusOr<RenderedTemplate> rendered =
      renderer.Render("billing-key", types::v1::CHANNEL_SMS, Ref());
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(rendered.status().message(), HasSubstr("retry with the same idempotency_key"));
}

}  // namespace
}  // namespace klaxon::ingress
