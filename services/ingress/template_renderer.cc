#include "services/ingress/template_renderer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {

absl::StatusOr<alerts::v1::RenderedTemplate> GrpcTemplateRenderer::Render(
    std::string_view caller_key, types::v1::Channel channel, const alerts::v1::TemplateRef& ref) {
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    in_flight_.fetch_sub(1);
    return absl::ResourceExhaustedError(absl::StrCat(
        "template: ", max_in_flight_,
        " templated alerts already wait on audit, which keeps the templates; retry with the "
        "same idempotency_key after a backoff"));
  }
  absl::StatusOr<alerts::v1::RenderedTemplate> rendered = Call(caller_key, channel, ref);
  in_flight_.fetch_sub(1);
  return rendered;
}

absl::StatusOr<alerts::v1::RenderedTemplate> GrpcTemplateRenderer::Call(
    std::string_view caller_key, types::v1::Channel channel, const alerts::v1::TemplateRef& ref) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", std::string(caller_key)));
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  alerts::v1::RenderTemplateRequest request;
  request.set_channel(channel);
  *request.mutable_template_() = ref;
  alerts::v1::RenderedTemplate rendered;
  const grpc::Status status = stub_->RenderTemplate(&context, request, &rendered);
  if (status.ok()) return rendered;
  const absl::Status answer = grpcutil::FromGrpcStatus(status);
  if (absl::IsUnavailable(answer) || absl::IsDeadlineExceeded(answer)) {
    return absl::UnavailableError(
        absl::StrCat("template: audit, which keeps the templates, did not ", "answer (",
                     answer.message(), "); retry with the same idempotency_key"));
  }
  return answer;
}

}  // namespace klaxon::ingress
