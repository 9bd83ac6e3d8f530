#include "common/http/request_framer.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace klaxon::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kEndOfHead = "\r\n\r\n";
// The methods Pistache's parser knew; anything else is refused rather than passed on.
constexpr std::array<std::string_view, 9> kMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
// More digits than this cannot be a length under any limit we allow (size_t has 20).
constexpr size_t kMaxLengthDigits = 18;

// RFC 9110 tchar: what a header name may hold.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

// A field value may hold visible characters, spaces, tabs and obs-text (bytes >= 0x80), never
// another control character: a lone CR or LF, or a NUL, is how requests get smuggled.
bool IsFieldValue(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte != 0x7F);
  });
}

// An origin-form request-target: '/' then visible ASCII only.
bool IsOriginForm(std::string_view target) {
  return !target.empty() && target.front() == '/' &&
         std::all_of(target.begin(), target.end(), [](char c) {
           const auto byte = static_cast<unsigned char>(c);
           return byte > 0x20 && byte < 0x7F;
         });
}

// Debian's Abseil has a string_view of its own.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}

// `text` split at every `separator`, empty pieces included.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  while (true) {
    const size_t at = text.find(separator);
    pieces.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    text.remove_prefix(at + 1);
  }
}

std::string_view TrimOptionalWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether the comma-separated token list `value` (Connection) holds `token`.
bool ListHas(std::string_view value, std::string_view token) {
  for (std::string_view item : Split(value, ',')) {
    if (EqualsIgnoreCase(TrimOptionalWhitespace(item), token)) return true;
  }
  return false;
}

}  // namespace

// Parses a complete head (request line and header lines, each ending in CRLF, without the final
// blank line). Sets `status` and `reason` and answers nullopt when the head is refused.
struct HeadParser {
  const FramingLimits& limits;
  int status = 0;
  std::string reason;

  std::optional<RequestFramer::Head> Fail(int refusal, std::string why) {
    status = refusal;
    reason = std::move(why);
    return std::nullopt;
  }

  std::optional<RequestFramer::Head> Parse(std::string_view head) {
    RequestFramer::Head parsed;
    const size_t line_end = head.find(kCrlf);
    const std::string_view request_line = head.substr(0, line_end);
    const std::vector<std::string_view> parts = Split(request_line, ' ');
    if (parts.size() != 3) return Fail(400, "malformed request line");
    if (std::find(kMethods.begin(), kMethods.end(), parts[0]) == kMethods.end()) {
      return Fail(400, "unknown method");
    }
    if (!IsOriginForm(parts[1])) return Fail(400, "malformed request target");
    const bool http10 = parts[2] == "HTTP/1.0";
    if (!http10 && parts[2] != "HTTP/1.1") return Fail(400, "unsupported HTTP version");
    parsed.method = std::string(parts[0]);
    parsed.target = std::string(parts[1]);

    bool has_length = false;
    bool has_transfer_encoding = false;
    bool keep_alive = false;
    size_t start = line_end == std::string_view::npos ? head.size() : line_end + kCrlf.size();
    while (start < head.size()) {
      const size_t end = std::min(head.find(kCrlf, start), head.size());
      const std::string_view line = head.substr(start, end - start);
      start = end + kCrlf.size();
      if (parsed.headers.size() >= limits.max_headers) return Fail(431, "too many header lines");
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Fail(400, "malformed header line");
      const std::string_view name = line.substr(0, colon);
      // A name that is not a token covers obs-fold (a line starting with a space) and a space
      // before the colon, both of which RFC 9112 says to refuse.
      if (!IsToken(name)) return Fail(400, "malformed header name");
      const std::string_view value = TrimOptionalWhitespace(line.substr(colon + 1));
      if (!IsFieldValue(value)) return Fail(400, "malformed header value");
      if (EqualsIgnoreCase(name, "Content-Length")) {
        if (has_length) return Fail(400, "more than one Content-Length");
        has_length = true;
        if (value.empty() || !std::all_of(value.begin(), value.end(), absl::ascii_isdigit)) {
          return Fail(400, "Content-Length must be digits");
        }
        // Leading zeros carry no value; past them, a length with too many digits is over any
        // limit, and one with few enough cannot overflow while it is read.
        const std::string_view digits =
            value.substr(std::min(value.find_first_not_of('0'), value.size()));
        if (digits.size() > kMaxLengthDigits) return Fail(413, "body too large");
        size_t length = 0;
        for (char digit : digits) length = length * 10 + static_cast<size_t>(digit - '0');
        if (length > limits.max_body_bytes) return Fail(413, "body too large");
        parsed.content_length = length;
      } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
        has_transfer_encoding = true;
      } else if (EqualsIgnoreCase(name, "Expect")) {
        parsed.expect_continue = EqualsIgnoreCase(value, "100-continue");
      } else if (EqualsIgnoreCase(name, "Connection")) {
        parsed.close = parsed.close || ListHas(value, "close");
        keep_alive = keep_alive || ListHas(value, "keep-alive");
      }
      parsed.headers.emplace_back(std::string(name), std::string(value));
    }
    if (has_transfer_encoding) {
      if (has_length) return Fail(400, "Content-Length together with Transfer-Encoding");
      return Fail(411, "send the body with a Content-Length");
    }
    if (http10 && !keep_alive) parsed.close = true;
    return parsed;
  }
};

namespace {

// A request's method, target (and its path and query) and headers, from `head`.
template <typename ParsedHead>
void FillHead(Request& request, ParsedHead&& head) {
  request.method = std::forward<ParsedHead>(head).method;
  request.target = std::forward<ParsedHead>(head).target;
  const size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  request.headers = std::forward<ParsedHead>(head).headers;
}

}  // namespace

RequestFramer::RequestFramer(FramingLimits limits)
    : limits_(limits), capacity_(limits.max_head_bytes + limits.max_body_bytes) {}

RequestFramer::Phase RequestFramer::phase() const {
  if (refused_) return Phase::kRefused;
  if (head_) return Phase::kBody;
  return buffer_.empty() ? Phase::kIdle : Phase::kHead;
}

size_t RequestFramer::Append(std::string_view bytes) {
  if (refused_) return 0;
  const size_t taken = std::min(bytes.size(), capacity_ - buffer_.size());
  buffer_.append(bytes.substr(0, taken));
  return taken;
}

FrameEvent RequestFramer::Refuse(int status, std::string reason) {
  refused_ =
      FrameEvent{.kind = FrameEvent::Kind::kRefused, .status = status, .reason = std::move(reason)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_.reset();
  return *refused_;
}

FrameEvent RequestFramer::Next() {
  if (refused_) return *refused_;
  if (!head_) {
    // RFC 9112 2.2: empty lines before a request line are ignored (some clients send a CRLF
    // after a POST body).
    size_t blank = 0;
    while (buffer_.compare(blank, kCrlf.size(), kCrlf) == 0) blank += kCrlf.size();
    if (blank > 0) {
      buffer_.erase(0, blank);
      scanned_ = 0;
    }
    const size_t end = buffer_.find(kEndOfHead, scanned_);
    if (end == std::string::npos || end + kEndOfHead.size() > limits_.max_head_bytes) {
      if (buffer_.size() >= limits_.max_head_bytes) return Refuse(431, "request head too large");
      scanned_ =
          buffer_.size() >= kEndOfHead.size() - 1 ? buffer_.size() - (kEndOfHead.size() - 1) : 0;
      return {};
    }
    HeadParser parser{.limits = limits_, .status = 0, .reason = {}};
    std::optional<Head> head =
        parser.Parse(std::string_view(buffer_).substr(0, end + kCrlf.size()));
    if (!head) return Refuse(parser.status, std::move(parser.reason));
    head->size = end + kEndOfHead.size();
    head_ = std::move(head);
    scanned_ = 0;
  }
  if (buffer_.size() - head_->size < head_->content_length) {
    if (head_->announced) return {};
    head_->announced = true;
    FrameEvent event{.kind = FrameEvent::Kind::kHead, .expect_continue = head_->expect_continue};
    FillHead(event.request, *head_);
    return event;
  }
  FrameEvent event{.kind = FrameEvent::Kind::kRequest, .close = head_->close};
  Request& request = event.request;
  FillHead(request, std::move(*head_));
  request.body = buffer_.substr(head_->size, head_->content_length);
  buffer_.erase(0, head_->size + head_->content_length);
  head_.reset();
  return event;
}

}  // namespace klaxon::http
