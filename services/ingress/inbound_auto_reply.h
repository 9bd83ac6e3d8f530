#pragma once
// What ingress answers an inbound SMS that is neither an opt-out, an opt-in, a request for help
// (which Twilio answers itself) nor an ACK reply: a fixed text per receiving number, e.g. how to
// acknowledge a page or opt out, sent back as TwiML. Configured as a JSON object from the number
// (E.164) or "*" (any other number) to the text; without an entry, the answer is empty TwiML and
// nothing is sent.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::ingress {

inline constexpr size_t kMaxAutoReplyLength = 320;

class InboundAutoReplies {
 public:
  InboundAutoReplies() = default;

  // `json`: e.g. {"+14155552671": "Reply ACK to acknowledge, STOP to opt out.", "*": "..."}; empty
  // means no replies. kInvalidArgument naming the entry when a key is neither E.164 nor "*", or a
  // text is empty or longer than kMaxAutoReplyLength characters.
  static absl::StatusOr<InboundAutoReplies> Parse(std::string_view json);

  // The text to answer a message sent to `to`, if any.
  std::optional<std::string> For(std::string_view to) const;

 private:
  std::map<std::string, std::string, std::less<>> replies_;
};

// The TwiML that replies `text` to the sender, with `text` escaped for XML.
std::string ReplyTwiml(std::string_view text);

}  // namespace klaxon::ingress
