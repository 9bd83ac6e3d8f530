#pragma once
// An HTTP/1.1 server for requests whose exact request-target matters: Twilio signs the URL it
// requested byte for byte, query string included and in its order, but Pistache's Http::Endpoint
// keeps the query only as an unordered map of its parameters. This server runs on Pistache's TCP
// layer and frames each request with RequestFramer (request_framer.h), which keeps the request
// line as it arrived.
//
// Each complete request goes to the handler together with a Responder, which may be called later
// from any thread (exactly once), so the handler can pass slow work to a pool. A connection's
// pipelined requests are handled one at a time, the next once the previous answer is written;
// the server loops over them, so a deep pipeline never deepens the stack.
//
// The public port holds under hostile clients: a connection holds at most one request at the
// framing limits (more pipelined bytes than that close it after its current answer); connections
// in total and per source address (but for sources exempted, a trusted proxy's) are capped
// (beyond a cap: 503 with Retry-After, then close);
// every phase has a deadline (idle before a request, its head, its body, writing its answer).
// The server answers protocol trouble itself, never with a 5xx other than that 503: the framer's
// 400/411/413/431 and 408 for a head or body too slow; each of these closes the connection.
// A head screen (ServerOptions::screen_head) may refuse a request from its head, before its body
// is kept, so clients the handler would refuse anyway hold no body's worth of memory.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/message.h"
#include "common/http/request_framer.h"

namespace klaxon::http {

// Sends the response for one request. Callable from any thread, exactly once, until the Server
// is destroyed; after Shutdown() it does nothing.
using Responder = std::function<void(Response)>;
using RequestHandler = std::function<void(Request, Responder)>;
// Told of each request the server refuses itself (status and a short fixed reason), e.g. for a
// metric. Called on a server thread; must not block.
using RefusalObserver = std::function<void(int status, std::string_view reason)>;
// Asked about each request whose head has arrived before all of its body, with that head (body
// empty): an answer refuses the request there; what the client still sends is read and dropped,
// never kept, until it closes or the body's deadline passes.
// A request that arrives whole goes to the handler without it (its body is held already).
// Called on a server thread; must not block.
using HeadScreen = std::function<std::optional<Response>(const Request& head)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port
  size_t threads = 2;
  FramingLimits limits{};
  size_t max_connections = 4096;
  size_t max_connections_per_source = 256;
  // Sources the per-source cap does not apply to: a trusted proxy in front, through which every
  // client comes (the total cap still does). None when empty.
  std::function<bool(std::string_view source)> uncapped_source{};
  // From a connection's opening, or from its last answer, until the first byte of a request.
  absl::Duration idle_timeout = absl::Seconds(30);
  // From the first byte of a request until the end of its headers.
  absl::Duration header_timeout = absl::Seconds(5);
  // From the end of the headers until the end of the body.
  absl::Duration body_timeout = absl::Seconds(10);
  // From handing an answer to the socket until the client has taken all of it.
  absl::Duration write_timeout = absl::Seconds(10);
  RequestHandler handler{};
  RefusalObserver on_refused{};
  HeadScreen screen_head{};  // none: every head passes
};

class Server {
 public:
  // Binds and starts serving. kInvalidArgument for a bad host or missing handler, kUnavailable
  // when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  uint16_t port() const;
  // Connections open now (for tests and gauges).
  size_t connections() const;
  // Stops accepting and closes every connection; responses sent afterwards go nowhere.
  void Shutdown();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace klaxon::http
