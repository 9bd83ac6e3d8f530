#include "common/http/message.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace klaxon::http {

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, absl::string_view(name.data(), name.size()))) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::HeaderList(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& [key, value] : headers) {
    if (!absl::EqualsIgnoreCase(key, absl::string_view(name.data(), name.size()))) continue;
    if (joined.has_value()) {
      absl::StrAppend(&*joined, ", ", value);
    } else {
      joined = value;
    }
  }
  return joined;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string SerializeResponse(const Response& response, bool close) {
  std::string wire = absl::StrCat("HTTP/1.1 ", response.status, " ",
                                  std::string(ReasonPhrase(response.status)), "\r\n");
  if (!response.content_type.empty()) {
    absl::StrAppend(&wire, "Content-Type: ", response.content_type, "\r\n");
  }
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(&wire, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&wire, "Content-Length: ", response.body.size(), "\r\n");
  if (close) wire.append("Connection: close\r\n");
  wire.append("\r\n").append(response.body);
  return wire;
}

}  // namespace klaxon::http
