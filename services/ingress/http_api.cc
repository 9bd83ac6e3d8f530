#include "services/ingress/http_api.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_gateway/problem.h"
#include "common/metrics/request_latency_buckets.h"
#include "grpcpp/create_channel.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "klaxon/alerts/v1/inbound_messages.pb.h"
#include "klaxon/verify/v1/verify.pb.h"

namespace klaxon::ingress {
namespace {

using grpc_gateway::HttpMethod;
using grpc_gateway::Route;

constexpr char kIntake[] = "klaxon.alerts.v1.AlertIntake.";
constexpr char kVerification[] = "klaxon.verify.v1.Verification.";
constexpr char kQuery[] = "klaxon.alerts.v1.AlertQuery.";
constexpr char kDeadLetters[] = "klaxon.alerts.v1.DeadLetters.";
constexpr char kTemplates[] = "klaxon.alerts.v1.Templates.";
constexpr char kInbound[] = "klaxon.alerts.v1.InboundMessages.";

// Room for a batch of 1,000 recipients with its text and metadata; larger bodies get 413.
constexpr size_t kMaxHttpApiBody = 256 * 1024;
// Past ingress-nginx's 60 s keep-alive of its upstream connections (ADR 0009): a POST it sends on
// a connection ingress is closing is never retried.
constexpr absl::Duration kHttpApiIdleTimeout = absl::Seconds(75);

}  // namespace

std::vector<Route> CallerApiRoutes(std::shared_ptr<grpc::ChannelInterface> ingress,
                                   std::shared_ptr<grpc::ChannelInterface> audit) {
  // The routes name their methods; the generated pool knows a .proto file's services only once
  // its generated code is linked in, which naming one of its messages makes sure of.
  (void)alerts::v1::SendAlertRequest::descriptor();
  (void)alerts::v1::ListInboundMessagesRequest::descriptor();
  (void)verify::v1::StartVerificationRequest::descriptor();
  auto route = [](HttpMethod method, std::string path, std::string rpc, std::string summary,
                  std::shared_ptr<grpc::ChannelInterface> channel,
                  std::set<std::string> not_in_query = {}) {
    return Route{.method = method,
                 .path = std::move(path),
                 .rpc = std::move(rpc),
                 .summary = std::move(summary),
                 .not_in_query = std::move(not_in_query),
                 .channel = std::move(channel)};
  };
  using std::string;
  return {
      route(HttpMethod::kPost, "/v1/alerts", string(kIntake) + "SendAlert",
            "Send an alert; OK once it is durable", ingress),
      route(HttpMethod::kPost, "/v1/alerts:batch", string(kIntake) + "SendAlerts",
            "Send the same alert to up to 1,000 recipients, each accepted or refused on its own",
            ingress),
      route(HttpMethod::kPost, "/v1/alerts/{alert_id}:cancel", string(kIntake) + "CancelAlert",
            "Stop an alert's pending sends", ingress),
      route(HttpMethod::kPost, "/v1/alerts/{alert_id}:acknowledge",
            string(kIntake) + "AcknowledgeAlert",
            "Stop an alert as acknowledged, as the recipient's key press would", ingress),
      route(HttpMethod::kGet, "/v1/alerts/{alert_id}", string(kQuery) + "GetAlert",
            "An alert with its attempts", audit),
      route(HttpMethod::kGet, "/v1/alerts", string(kQuery) + "ListAlerts",
            "The caller's alerts, newest first (filter by recipient with :search)", audit,
            {"recipient"}),
      // The same list with the filters in the body, so a recipient filter never sits in a URL
      // (where proxies log it).
      route(HttpMethod::kPost, "/v1/alerts:search", string(kQuery) + "ListAlerts",
            "The caller's alerts, filtered by a body (for a recipient filter)", audit),
      route(HttpMethod::kGet, "/v1/alerts/{alert_id}/trail", string(kQuery) + "GetAuditTrail",
            "Every event recorded for an alert", audit),
      route(HttpMethod::kGet, "/v1/delivery-report", string(kQuery) + "GetDeliveryReport",
            "Counts and success rates of the caller's alerts in a period", audit),
      route(HttpMethod::kPost, "/v1/templates", string(kTemplates) + "CreateTemplate",
            "Store a template, or its next version in a locale", audit),
      route(HttpMethod::kGet, "/v1/templates", string(kTemplates) + "ListTemplates",
            "The caller's templates: the latest version of each in each locale", audit),
      route(HttpMethod::kPost, "/v1/templates:render", string(kTemplates) + "RenderTemplate",
            "A template's text with parameters, as SendAlert would send it", audit),
      route(HttpMethod::kGet, "/v1/inbound-messages", string(kInbound) + "ListInboundMessages",
            "Replies to the caller's pages, each listed for the caller whose alert its sender "
            "last received, newest first (filter by sender with :search)",
            audit, {"from"}),
      // As for alerts: a sender filter in the body, never in a URL.
      route(HttpMethod::kPost, "/v1/inbound-messages:search",
            string(kInbound) + "ListInboundMessages",
            "Replies to the caller's pages, filtered by a body", audit),
      route(HttpMethod::kGet, "/v1/dead-letters", string(kDeadLetters) + "ListDeadLetters",
            "The alerts Klaxon gave up on", audit),
      route(HttpMethod::kGet, "/v1/dead-letters/{alert_id}", string(kDeadLetters) + "GetDeadLetter",
            "One dead letter", audit),
      route(HttpMethod::kPost, "/v1/dead-letters/{alert_id}:replay",
            string(kDeadLetters) + "ReplayDeadLetter", "Send a dead letter again as a new alert",
            audit),
      route(HttpMethod::kPost, "/v1/dead-letters:replay",
            string(kDeadLetters) + "ReplayDeadLetters",
            "Operators: replay a page of dead letters matching a filter", audit),
      route(HttpMethod::kPost, "/v1/verifications", string(kVerification) + "StartVerification",
            "Send a one-time code by SMS or call", ingress),
      route(HttpMethod::kPost, "/v1/verifications:check",
            string(kVerification) + "CheckVerification",
            "Check a code, by verification id or recipient in the body", ingress),
      route(HttpMethod::kPost, "/v1/verifications/{verification_id}:check",
            string(kVerification) + "CheckVerification", "Check a code", ingress),
      route(HttpMethod::kPost, "/v1/verifications/{verification_id}:cancel",
            string(kVerification) + "CancelVerification", "End a pending verification", ingress),
  };
}

grpc_gateway::ApiInfo CallerApiInfo() {
  return {.title = "Klaxon caller API",
          .version = "v1",
          .description =
              "Send SMS and voice alerts through Twilio and follow them. Every request "
              "carries \"Authorization: Bearer <API key>\"."};
}

std::string CallerApiDocument() {
  std::vector<grpc_gateway::CompiledRoute> routes;
  for (grpc_gateway::Route& route : CallerApiRoutes(nullptr, nullptr)) {
    // The table is fixed and http_api_test compiles every route.
    routes.push_back(grpc_gateway::CompiledRoute::Compile(std::move(route)).value());
  }
  return grpc_gateway::OpenApiDocument(routes, CallerApiInfo()).dump(2);
}

HttpApiTelemetry::HttpApiTelemetry(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("klaxon_http_api_requests_total")
                    .Help("Caller API requests over HTTP/JSON by the RPC they called (none: no "
                          "route matched, or refused 401 from its head before routing) and HTTP "
                          "status")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("klaxon_http_api_request_duration_seconds")
                     .Help("Time from a complete HTTP/JSON request to its answer, by RPC")
                     .Register(registry)) {}

void HttpApiTelemetry::OnAnswered(const std::string& rpc, int status, absl::Duration took) {
  const std::string method = rpc.empty() ? "none" : rpc.substr(rpc.rfind('.') + 1);
  requests_.Add({{"rpc", method}, {"status", std::to_string(status)}}).Increment();
  durations_.Add({{"rpc", method}}, metrics::RequestLatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
}

std::optional<http::Response> RefuseWithoutApiKey(const auth::CallerAuthenticator& api_keys,
                                                  const http::Request& head) {
  absl::StatusOr<std::string> key = auth::BearerKeyOf(head.Header("Authorization").value_or(""));
  const absl::Status status = key.ok() ? api_keys.Authenticate(*key).status() : key.status();
  if (status.ok()) return std::nullopt;
  return grpc_gateway::ProblemResponse(status);
}

absl::StatusOr<RunningHttpApi> StartHttpApi(const HttpApiSettings& settings, grpc::Server& ingress,
                                            std::shared_ptr<grpc::ChannelInterface> audit,
                                            const auth::CallerAuthenticator& api_keys,
                                            const TrustedProxies& proxies,
                                            HttpApiTelemetry& telemetry) {
  absl::StatusOr<std::unique_ptr<grpc_gateway::Gateway>> gateway = grpc_gateway::Gateway::Create(
      CallerApiRoutes(ingress.InProcessChannel(grpc::ChannelArguments()), std::move(audit)),
      {.deadline = settings.deadline,
       .info = CallerApiInfo(),
       .on_answered = [&telemetry](const std::string& rpc, int status, absl::Duration took) {
         telemetry.OnAnswered(rpc, status, took);
       }});
  if (!gateway.ok()) return gateway.status();
  RunningHttpApi running{.gateway = *std::move(gateway)};
  absl::StatusOr<std::unique_ptr<http::Server>> server = http::Server::Start(
      {.host = settings.address.host,
       .port = settings.address.port,
       .threads = 2,
       .limits = {.max_body_bytes = kMaxHttpApiBody},
       .uncapped_source = [&proxies](std::string_view source) { return proxies.Trusts(source); },
       .idle_timeout = kHttpApiIdleTimeout,
       .handler =
           [gateway = running.gateway.get()](http::Request request, http::Responder respond) {
             gateway->Handle(std::move(request), std::move(respond));
           },
       .screen_head =
           [&api_keys, &telemetry](const http::Request& head) {
             std::optional<http::Response> refusal = RefuseWithoutApiKey(api_keys, head);
             if (refusal) telemetry.OnAnswered("", refusal->status, absl::ZeroDuration());
             return refusal;
           }});
  if (!server.ok()) {
    return absl::UnavailableError(absl::StrCat("the HTTP API cannot listen on ",
                                               settings.address.ToString(), ": ",
                                               server.status().message()));
  }
  running.server = *std::move(server);
  return running;
}

}  // namespace klaxon::ingress
