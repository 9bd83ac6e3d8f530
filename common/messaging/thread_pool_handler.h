#pragma once
// ThreadPoolHandler: runs a synchronous MessageHandler, one that blocks while it works (a
// worker's Twilio request, a retry tier's wait for not_before), behind the AsyncMessageHandler
// port. It holds a fixed number of threads, chosen at construction: that many messages are
// handled at once, and the others wait in its queue. The queue is not bounded here because the
// consumer already bounds it: it never has more than its max_in_flight messages handed over.
// A message the optional `wants` test refuses skips the pool: it is done (OK) at once.

#include <cstddef>
#include <functional>

#include "common/concurrency/blocking_executor.h"
#include "common/messaging/message.h"

namespace klaxon::messaging {

// A cheap test of whether a handler acts on a message (ThreadPoolHandlerOptions::wants).
using MessageFilter = std::function<bool(const InboundMessage&)>;

struct ThreadPoolHandlerOptions {
  size_t threads = 1;  // at least 1
  // A cheap test run on the caller's thread, for a consumer whose topic carries mostly messages
  // its handler ignores: a message it refuses is done (OK) at once, without the hand-off to a pool
  // thread and back. Empty: every message goes to the handler.
  MessageFilter wants;
};

class ThreadPoolHandler final : public AsyncMessageHandler {
 public:
  // `handler` is borrowed and must outlive this; it must be thread-safe when threads > 1.
  ThreadPoolHandler(MessageHandler& handler, ThreadPoolHandlerOptions options);

  // Queues `message` for a pool thread, which calls the handler and then `done` with its result;
  // a message `wants` refuses is done at once.
  void Handle(const InboundMessage& message, HandleDone done) override;

 private:
  MessageHandler& handler_;
  MessageFilter wants_;
  // Last, so its destructor (which finishes the messages accepted) runs while handler_ is set.
  concurrency::BlockingExecutor pool_;
};

}  // namespace klaxon::messaging
