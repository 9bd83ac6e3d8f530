#pragma once
// An HTTP/1.1 server for requests whose exact request-target matters: Twilio signs the URL it
// requested byte for byte, query string included and in its order, but Pistache's Http::Endpoint
// keeps the query only as an unordered map of its parameters. This server runs on Pistache's TCP
// layer, parses each request with Pistache's own request parser, and also keeps the request line
// as it arrived.
//
// Each complete request goes to the handler on a reactor thread together with a Responder, which
// may be called later from any thread (exactly once), so the handler can pass slow work to a pool.
// The server answers protocol trouble itself, never with a 5xx: a malformed request 400, a
// request over max_request_bytes 413 and a client that is too slow to send its headers or body
// 408; each of these closes the connection.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::http {

struct Request {
  std::string method{};  // "GET", "POST", ...
  std::string target{};  // the request-target exactly as received: path and query
  std::string path{};    // target up to '?'
  std::string query{};   // target after '?', still percent-encoded; empty when none
  std::vector<std::pair<std::string, std::string>> headers{};  // names as received
  std::string body{};
  std::string peer_address{};  // the connecting address, without port

  // The value of header `name` (compared case-insensitively), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type{};  // no Content-Type header when empty
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers, e.g. Retry-After
};

// Sends the response for one request. Callable from any thread, exactly once, until the Server
// is destroyed; after Shutdown() it does nothing.
using Responder = std::function<void(Response)>;
using RequestHandler = std::function<void(Request, Responder)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 picks a free port
  size_t threads = 2;
  // Request line, headers and body together.
  size_t max_request_bytes = 80 * 1024;
  // From a connection's first byte of a request (or from its opening) until the end of the headers.
  absl::Duration header_timeout = absl::Seconds(5);
  // From the end of the headers until the end of the body.
  absl::Duration body_timeout = absl::Seconds(10);
  RequestHandler handler{};
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
  // Stops accepting and closes every connection; responses sent afterwards go nowhere.
  void Shutdown();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The status line's reason phrase for `status` ("OK", "Forbidden", ...).
std::string_view ReasonPhrase(int status);

// The bytes of `response` on the wire, with Content-Length and, when `close` is set,
// "Connection: close".
std::string SerializeResponse(const Response& response, bool close);

}  // namespace klaxon::http
