#pragma once
// Port: renders SendAlert's template (docs/adr/0030). Templates are audit's (kept in Postgres,
// which ingress never connects to); ingress asks audit's Templates.RenderTemplate, as the caller,
// for the text to send, and takes in the alert with it.

#include <atomic>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::ingress {

class TemplateRenderer {
 public:
  virtual ~TemplateRenderer() = default;
  // The template's text for `channel` with its parameters in place, as the caller whose API key
  // is `caller_key` may have it. Audit's refusals keep their code and message (INVALID_ARGUMENT
  // naming a parameter, NOT_FOUND naming the template, FAILED_PRECONDITION for a template without
  // the channel's text); audit out of reach is kUnavailable.
  virtual absl::StatusOr<alerts::v1::RenderedTemplate> Render(
      std::string_view caller_key, types::v1::Channel channel,
      const alerts::v1::TemplateRef& ref) = 0;
};

// Over gRPC to audit, each call bounded by `deadline`. The call blocks the intake thread it runs
// on, which alerts with a text share: at most `max_in_flight` wait on audit at once, and a render
// beyond them is refused at once with kResourceExhausted, so an audit that hangs holds no more
// than that many threads.
class GrpcTemplateRenderer final : public TemplateRenderer {
 public:
  GrpcTemplateRenderer(std::shared_ptr<grpc::ChannelInterface> audit, absl::Duration deadline,
                       int max_in_flight)
      : stub_(alerts::v1::Templates::NewStub(std::move(audit))),
        deadline_(deadline),
        max_in_flight_(max_in_flight) {}

  absl::StatusOr<alerts::v1::RenderedTemplate> Render(std::string_view caller_key,
                                                      types::v1::Channel channel,
                                                      const alerts::v1::TemplateRef& ref) override;

 private:
  absl::StatusOr<alerts::v1::RenderedTemplate> Call(std::string_view caller_key,
                                                    types::v1::Channel channel,
                                                    const alerts::v1::TemplateRef& ref);

  std::unique_ptr<alerts::v1::Templates::Stub> stub_;
  const absl::Duration deadline_;
  const int max_in_flight_;
  std::atomic<int> in_flight_{0};
};

}  // namespace klaxon::ingress
