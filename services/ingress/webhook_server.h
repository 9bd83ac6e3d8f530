#pragma once
// The webhook ingress's HTTP face: an http::Server whose requests run WebhookHandler::Handle on a
// bounded pool (Handle waits on Redis and Kafka; the server's reactor threads must not). A full
// pool answers 503 with Retry-After, so an overload sheds load instead of queueing without end.

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/concurrency/blocking_executor.h"
#include "common/http/server.h"
#include "services/ingress/webhook_handler.h"

namespace klaxon::ingress {

struct WebhookServerOptions {
  http::ServerOptions http{};  // handler is set by WebhookServer
  concurrency::BlockingExecutorOptions pool{};
  // Called for each request a full pool sheds, on a reactor thread: it must not block. A shed
  // status callback is lost (Twilio does not retry a 503), whoever filled the pool.
  std::function<void()> on_shed = nullptr;
};

class WebhookServer {
 public:
  // `handler` must outlive the server.
  static absl::StatusOr<std::unique_ptr<WebhookServer>> Start(WebhookServerOptions options,
                                                              WebhookHandler& handler);
  ~WebhookServer();

  uint16_t port() const { return server_->port(); }
  // Stops taking requests, then finishes the ones already accepted (their answers go nowhere).
  void Shutdown();

 private:
  WebhookServer() = default;

  std::unique_ptr<concurrency::BlockingExecutor> pool_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace klaxon::ingress
