#include "common/messaging/thread_pool_handler.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

namespace klaxon::messaging {

ThreadPoolHandler::ThreadPoolHandler(MessageHandler& handler, ThreadPoolHandlerOptions options)
    : handler_(handler),
      wants_(std::move(options.wants)),
      pool_({.threads = std::max<size_t>(options.threads, 1),
             .max_queued = std::numeric_limits<size_t>::max()}) {}

void ThreadPoolHandler::Handle(const InboundMessage& message, HandleDone done) {
  if (wants_ && !wants_(message)) {
    std::move(done)(absl::OkStatus());
    return;
  }
  // The executor takes copyable tasks; the completion is move-only, so the task shares it.
  auto pending = std::make_shared<HandleDone>(std::move(done));
  pool_.Submit([this, &message, pending] { std::move (*pending)(handler_.Handle(message)); });
}

}  // namespace klaxon::messaging
