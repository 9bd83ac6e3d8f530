#include "bench/http1_response.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/abseil/string_view.h"

namespace klaxon::bench {
namespace {

using abseil::AbslView;

constexpr std::size_t kMaxHeadBytes = 64 * 1024;
constexpr std::string_view kCrlf = "\r\n";

struct Head {
  int status = 0;
  bool http10 = false;
  std::size_t size = 0;  // through the blank line
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
};

bool HasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(item), token)) return true;
  }
  return false;
}

absl::StatusOr<std::optional<Head>> ParseHead(std::string_view buffer) {
  const std::size_t end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buffer.size() > kMaxHeadBytes) {
      return absl::InvalidArgumentError("response head is over 64 KiB without ending");
    }
    return std::nullopt;
  }
  Head head{.size = end + 4};
  const absl::string_view text = AbslView(buffer.substr(0, end));
  std::vector<absl::string_view> lines = absl::StrSplit(text, AbslView(kCrlf));
  // "HTTP/1.1 204 No Content": version, a space, three digits, then a space or nothing.
  const absl::string_view status_line = lines.front();
  if (status_line.size() < 12 || !absl::StartsWith(status_line, "HTTP/1.") ||
      status_line[8] != ' ' || (status_line.size() > 12 && status_line[12] != ' ') ||
      !absl::SimpleAtoi(status_line.substr(9, 3), &head.status) || head.status < 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an HTTP/1.x status line: \"", status_line.substr(0, 80), "\""));
  }
  head.http10 = status_line[7] == '0';
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed response header line: \"", lines[i].substr(0, 80), "\""));
    }
    const absl::string_view name = lines[i].substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t length = 0;
      if (!absl::SimpleAtoi(value, &length) ||
          (head.content_length && *head.content_length != length)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid Content-Length \"", value.substr(0, 40), "\""));
      }
      head.content_length = length;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      head.chunked = HasToken(value, "chunked");
    } else if (absl::EqualsIgnoreCase(name, "Connection")) {
      head.connection_close = head.connection_close || HasToken(value, "close");
      head.connection_keep_alive = head.connection_keep_alive || HasToken(value, "keep-alive");
    }
  }
  return head;
}

// The size of the chunked body at the start of `body` (RFC 9112 section 7.1), trailers
// included; nullopt while it is incomplete.
absl::StatusOr<std::optional<std::size_t>> ChunkedBodySize(std::string_view body) {
  std::size_t at = 0;
  while (true) {
    const std::size_t line_end = body.find(kCrlf, at);
    if (line_end == std::string_view::npos) return std::nullopt;
    std::string_view size_text = body.substr(at, line_end - at);
    size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(AbslView(size_text)), &size) ||
        size > body.max_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid chunk size \"", AbslView(size_text.substr(0, 40)), "\" in a chunked body"));
    }
    at = line_end + kCrlf.size();
    if (size == 0) break;
    if (body.size() - at < size + kCrlf.size()) return std::nullopt;
    if (body.substr(at + size, kCrlf.size()) != kCrlf) {
      return absl::InvalidArgumentError("chunk data is not followed by CRLF");
    }
    at += size + kCrlf.size();
  }
  // Trailer fields, then an empty line.
  while (true) {
    const std::size_t line_end = body.find(kCrlf, at);
    if (line_end == std::string_view::npos) return std::nullopt;
    const bool empty = line_end == at;
    at = line_end + kCrlf.size();
    if (empty) return at;
  }
}

}  // namespace

absl::StatusOr<std::optional<ResponseFrame>> ParseResponse(std::string_view buffer, bool at_eof) {
  std::size_t start = 0;
  while (true) {
    const std::string_view rest = buffer.substr(start);
    absl::StatusOr<std::optional<Head>> head = ParseHead(rest);
    if (!head.ok()) return head.status();
    if (!head->has_value()) return std::nullopt;
    const Head& parsed = **head;
    // 101 Switching Protocols is final: this client never asks for an upgrade, so it is an
    // answer like any other.
    if (parsed.status < 200 && parsed.status != 101) {
      start += parsed.size;
      continue;
    }
    ResponseFrame frame{
        .status = parsed.status,
        .closes = parsed.connection_close || (parsed.http10 && !parsed.connection_keep_alive)};
    const std::string_view body = rest.substr(parsed.size);
    std::size_t body_size = 0;
    if (parsed.status == 204 || parsed.status == 304) {
      body_size = 0;
    } else if (parsed.chunked) {
      absl::StatusOr<std::optional<std::size_t>> chunked = ChunkedBodySize(body);
      if (!chunked.ok()) return chunked.status();
      if (!chunked->has_value()) return std::nullopt;
      body_size = **chunked;
    } else if (parsed.content_length) {
      if (body.size() < *parsed.content_length) return std::nullopt;
      body_size = static_cast<std::size_t>(*parsed.content_length);
    } else {
      // Only the end of the connection delimits this body.
      if (!at_eof) return std::nullopt;
      body_size = body.size();
      frame.closes = true;
    }
    frame.size = start + parsed.size + body_size;
    return frame;
  }
}

}  // namespace klaxon::bench
