#pragma once
// An HTTP/1.1 request as Klaxon's server hands it to a handler, the response a handler gives
// back, and the response's bytes on the wire. Plain data and pure functions: the request framer
// (request_framer.h) builds Requests, the server (server.h) writes Responses.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klaxon::http {

struct Request {
  std::string method{};  // "GET", "POST", ...
  std::string target{};  // the request-target exactly as received: path and query
  std::string path{};    // target up to '?'
  std::string query{};   // target after '?', still percent-encoded; empty when none
  std::vector<std::pair<std::string, std::string>> headers{};  // names as received
  std::string body{};
  std::string peer_address{};  // the connecting address, without port

  // The value of header `name` (compared case-insensitively), or nullopt; its first line, if it
  // was sent on several.
  std::optional<std::string> Header(std::string_view name) const;
  // The value of list header `name` (X-Forwarded-For), every line of it joined in order with
  // ", " (RFC 9110, 5.3), or nullopt: a proxy that adds a line of its own instead of appending to
  // the client's is read after it.
  std::optional<std::string> HeaderList(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type{};  // no Content-Type header when empty
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers, e.g. Retry-After
};

// The status line's reason phrase for `status` ("OK", "Forbidden", ...).
std::string_view ReasonPhrase(int status);

// The bytes of `response` on the wire, with Content-Length and, when `close` is set,
// "Connection: close".
std::string SerializeResponse(const Response& response, bool close);

}  // namespace klaxon::http
