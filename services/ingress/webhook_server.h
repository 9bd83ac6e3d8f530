#pragma once
// The webhook ingress's HTTP face: an http::Server whose requests queue for a few threads that
// take them in batches and run WebhookHandler::Handle on each batch (it waits on Redis once per
// batch; the server's reactor threads must not wait at all). A full queue answers 503 with
// Retry-After, so an overload sheds load instead of queueing without end.

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/concurrency/batch_workers.h"
#include "common/http/server.h"
#include "services/ingress/webhook_handler.h"

namespace klaxon::ingress {

struct WebhookServerOptions {
  http::ServerOptions http{};  // handler is set by WebhookServer
  concurrency::BatchWorkersOptions workers{};
  // Called for each request a full queue sheds, on a reactor thread: it must not block. A shed
  // status callback is lost (Twilio does not retry a 503), whoever filled the queue.
  std::function<void()> on_shed = nullptr;
};

class WebhookServer {
 public:
  // `handler` must outlive the server.
  static absl::StatusOr<std::unique_ptr<WebhookServer>> Start(WebhookServerOptions options,
                                                              WebhookHandler& handler);
  ~WebhookServer();

  uint16_t port() const { return server_->port(); }
  // Stops taking requests, then hands the queued ones to the handler (their answers go nowhere).
  void Shutdown();

 private:
  WebhookServer() = default;

  std::unique_ptr<concurrency::BatchWorkers<WebhookCall>> workers_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace klaxon::ingress
