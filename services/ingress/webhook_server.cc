#include "services/ingress/webhook_server.h"

#include <utility>

namespace klaxon::ingress {

absl::StatusOr<std::unique_ptr<WebhookServer>> WebhookServer::Start(WebhookServerOptions options,
                                                                    WebhookHandler& handler) {
  std::unique_ptr<WebhookServer> server(new WebhookServer());
  server->pool_ = std::make_unique<concurrency::BlockingExecutor>(options.pool);
  concurrency::BlockingExecutor& pool = *server->pool_;
  options.http.handler = [&pool, &handler, on_shed = std::move(options.on_shed)](
                             http::Request request, http::Responder respond) {
    const bool queued = pool.Submit(
        [&handler, request = std::move(request), respond]() { respond(handler.Handle(request)); });
    if (!queued) {
      if (on_shed) on_shed();
      respond({.status = 503,
               .content_type = "text/plain; charset=utf-8",
               .body = "ingress is overloaded; retry\n",
               .headers = {{"Retry-After", "1"}}});
    }
  };
  absl::StatusOr<std::unique_ptr<http::Server>> http = http::Server::Start(std::move(options.http));
  if (!http.ok()) return http.status();
  server->server_ = *std::move(http);
  return server;
}

WebhookServer::~WebhookServer() { Shutdown(); }

void WebhookServer::Shutdown() {
  if (server_ != nullptr) server_->Shutdown();
  pool_.reset();  // runs what was accepted; its responders find the server shut down
}

}  // namespace klaxon::ingress
