#include "common/grpc_gateway/gateway.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_gateway/json_transcoding.h"
#include "common/grpc_gateway/problem.h"
#include "common/grpcutil/grpcutil.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"

namespace klaxon::grpc_gateway {
namespace {

using google::protobuf::Message;

// gRFC A6's retry hint, as grpcutil::WithRetryPushback's servers send it.
constexpr std::string_view kRetryPushbackTrailer = "grpc-retry-pushback-ms";

std::optional<absl::Duration> RetryPushback(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  const auto found =
      trailers.find(grpc::string_ref(kRetryPushbackTrailer.data(), kRetryPushbackTrailer.size()));
  if (found == trailers.end()) return std::nullopt;
  int64_t millis = 0;
  const auto [end, error] =
      std::from_chars(found->second.data(), found->second.data() + found->second.size(), millis);
  if (error != std::errc() || millis < 0) return std::nullopt;
  return absl::Milliseconds(millis);
}

bool IsPrintableAscii(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool IsJson(const http::Request& request) {
  const std::optional<std::string> type = request.Header("Content-Type");
  if (!type.has_value()) return false;
  const std::string media = absl::AsciiStrToLower(type->substr(0, type->find(';')));
  return absl::StripAsciiWhitespace(media) == "application/json";
}

http::Response JsonResponse(int status, std::string body) {
  return {.status = status, .content_type = "application/json", .body = std::move(body)};
}

// One call in flight: owns what gRPC writes into until OnDone, then answers and deletes itself.
class PendingCall final : public grpc::ClientUnaryReactor {
 public:
  PendingCall(const CompiledRoute& route, http::Responder respond, const GatewayOptions& options,
              Gateway::InFlight& in_flight, absl::Time started)
      : route_(route),
        respond_(std::move(respond)),
        options_(options),
        in_flight_(in_flight),
        started_(started) {}

  grpc::ClientContext& context() { return context_; }

  // The call must already be counted in `in_flight` (Gateway::Handle does it).
  void Start(const Message& request) {
    bool own_buffer = false;
    (void)grpc::SerializationTraits<Message>::Serialize(request, &request_, &own_buffer);
    grpc::TemplatedGenericStub<grpc::ByteBuffer, grpc::ByteBuffer> stub(route_.route().channel);
    stub.PrepareUnaryCall(&context_, route_.rpc_path(), grpc::StubOptions(), &request_, &response_,
                          this);
    StartCall();
  }

  void OnDone(const grpc::Status& status) override {
    Answer(status.ok()
               ? Success()
               : ProblemResponse(grpcutil::FromGrpcStatus(status), RetryPushback(context_)));
    // The call goes first, while the gateway still holds the route's channel: the call's
    // ClientContext holds a reference to it, and a channel released last on this thread (one of
    // gRPC's callback threads) shuts down the completion queue this thread is polling, which
    // aborts the process in grpc_cq_internal_unref.
    Gateway::InFlight& in_flight = in_flight_;
    delete this;
    // Once this lock is released the gateway may go.
    std::lock_guard lock(in_flight.mu);
    --in_flight.calls;
    in_flight.drained.notify_all();
  }

 private:
  http::Response Success() {
    std::unique_ptr<Message> answer(google::protobuf::MessageFactory::generated_factory()
                                        ->GetPrototype(route_.rpc().output_type())
                                        ->New());
    if (!grpc::SerializationTraits<Message>::Deserialize(&response_, answer.get()).ok()) {
      return ProblemResponse(absl::InternalError(
          absl::StrCat(route_.route().rpc, " answered bytes that are not its response message")));
    }
    return JsonResponse(200, ResponseJson(*answer));
  }

  void Answer(http::Response response) {
    if (options_.on_answered) {
      options_.on_answered(route_.route().rpc, response.status, absl::Now() - started_);
    }
    respond_(std::move(response));
  }

  const CompiledRoute& route_;
  http::Responder respond_;
  const GatewayOptions& options_;
  Gateway::InFlight& in_flight_;
  const absl::Time started_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Create(std::vector<Route> routes,
                                                         GatewayOptions options) {
  std::vector<CompiledRoute> compiled;
  for (Route& route : routes) {
    if (route.channel == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("route ", HttpMethodName(route.method), " ", route.path, ": no channel"));
    }
    absl::StatusOr<CompiledRoute> ready = CompiledRoute::Compile(std::move(route));
    if (!ready.ok()) return ready.status();
    compiled.push_back(*std::move(ready));
  }
  return std::unique_ptr<Gateway>(new Gateway(std::move(compiled), std::move(options)));
}

Gateway::Gateway(std::vector<CompiledRoute> routes, GatewayOptions options)
    : routes_(std::move(routes)),
      options_(std::move(options)),
      openapi_document_(OpenApiDocument(routes_, options_.info).dump()) {}

Gateway::~Gateway() { Drain(); }

void Gateway::Drain() {
  std::unique_lock lock(in_flight_.mu);
  in_flight_.draining = true;
  in_flight_.drained.wait(lock, [this] { return in_flight_.calls == 0; });
}

void Gateway::Handle(http::Request request, http::Responder respond) {
  const absl::Time started = absl::Now();
  auto answer = [&](const std::string& rpc, http::Response response) {
    if (options_.on_answered) options_.on_answered(rpc, response.status, absl::Now() - started);
    respond(std::move(response));
  };
  if (request.path == options_.openapi_path && request.method == "GET") {
    answer("openapi", JsonResponse(200, openapi_document_));
    return;
  }
  std::vector<std::string> allowed;
  for (const CompiledRoute& route : routes_) {
    std::optional<std::map<std::string, std::string>> values = route.Match(request.path);
    if (!values.has_value()) continue;
    if (HttpMethodName(route.route().method) != request.method) {
      allowed.emplace_back(HttpMethodName(route.route().method));
      continue;
    }
    const std::string& rpc = route.route().rpc;
    if (route.route().method == HttpMethod::kPost && !request.body.empty() && !IsJson(request)) {
      answer(rpc,
             ProblemResponse(415, absl::InvalidArgumentError(
                                      "the body must be JSON (Content-Type: application/json)")));
      return;
    }
    std::optional<std::string> authorization = request.Header("Authorization");
    if (authorization.has_value() && !IsPrintableAscii(*authorization)) {
      answer(rpc, ProblemResponse(absl::UnauthenticatedError(
                      "the Authorization header must be \"Bearer <API key>\" in printable ASCII")));
      return;
    }
    absl::StatusOr<std::unique_ptr<Message>> message =
        RequestMessage(route, *values, request.query, request.body);
    if (!message.ok()) {
      answer(rpc, ProblemResponse(message.status()));
      return;
    }
    {
      // Counted under the lock that Drain sets `draining` under, so Drain never returns before a
      // call it let through has answered.
      std::unique_lock lock(in_flight_.mu);
      if (in_flight_.draining) {
        lock.unlock();
        answer(rpc, ProblemResponse(absl::UnavailableError(
                        "this server is shutting down; retry, another replica will answer")));
        return;
      }
      ++in_flight_.calls;
    }
    auto* call = new PendingCall(route, std::move(respond), options_, in_flight_, started);
    call->context().set_deadline(absl::ToChronoTime(started + options_.deadline));
    if (authorization.has_value()) call->context().AddMetadata("authorization", *authorization);
    call->Start(**message);
    return;
  }
  if (!allowed.empty()) {
    http::Response refused = ProblemResponse(
        405,
        absl::InvalidArgumentError(absl::StrCat(request.method, " is not served at ", request.path,
                                                "; use ", absl::StrJoin(allowed, " or "))));
    refused.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    answer("", std::move(refused));
    return;
  }
  answer("", ProblemResponse(absl::NotFoundError(absl::StrCat("no API resource at ", request.path,
                                                              "; the API is described at ",
                                                              options_.openapi_path))));
}

}  // namespace klaxon::grpc_gateway
