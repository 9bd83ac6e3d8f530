#include "services/ingress/webhook_server.h"

#include <utility>
#include <vector>

namespace klaxon::ingress {

absl::StatusOr<std::unique_ptr<WebhookServer>> WebhookServer::Start(WebhookServerOptions options,
                                                                    WebhookHandler& handler) {
  std::unique_ptr<WebhookServer> server(new WebhookServer());
  server->workers_ = std::make_unique<concurrency::BatchWorkers<WebhookCall>>(
      options.workers,
      [&handler](std::vector<WebhookCall> calls) { handler.Handle(std::move(calls)); });
  concurrency::BatchWorkers<WebhookCall>& workers = *server->workers_;
  options.http.handler = [&workers, on_shed = std::move(options.on_shed)](http::Request request,
                                                                          http::Responder respond) {
    WebhookCall call{.request = std::move(request), .answer = std::move(respond)};
    if (workers.Submit(call)) return;
    if (on_shed) on_shed();
    call.answer({.status = 503,
                 .content_type = "text/plain; charset=utf-8",
                 .body = "ingress is overloaded; retry\n",
                 .headers = {{"Retry-After", "1"}}});
  };
  absl::StatusOr<std::unique_ptr<http::Server>> http = http::Server::Start(std::move(options.http));
  if (!http.ok()) return http.status();
  server->server_ = *std::move(http);
  return server;
}

WebhookServer::~WebhookServer() { Shutdown(); }

void WebhookServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown();
  if (workers_ != nullptr) workers_->Drain();
}

}  // namespace klaxon::ingress
