#include "services/ingress/inbound_auto_reply.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/phone/phone.h"
#include "common/twilio/twiml.h"
#include "nlohmann/json.hpp"

namespace klaxon::ingress {
namespace {

constexpr std::string_view kAnyNumber = "*";

// Characters, not bytes: a UTF-8 continuation byte does not start one.
size_t CharacterCount(std::string_view text) {
  size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace

absl::StatusOr<InboundAutoReplies> InboundAutoReplies::Parse(std::string_view json) {
  InboundAutoReplies parsed;
  if (json.empty()) return parsed;
  const nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) {
    return absl::InvalidArgumentError(
        "must be a JSON object from a number (E.164) or \"*\" to the reply's text");
  }
  for (const auto& [number, text] : document.items()) {
    if (number != kAnyNumber && !phone::ValidateE164(number).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", number, "\": the key must be an E.164 number or \"*\""));
    }
    if (!text.is_string() || text.get_ref<const std::string&>().empty() ||
        CharacterCount(text.get_ref<const std::string&>()) > kMaxAutoReplyLength) {
      return absl::InvalidArgumentError(absl::StrCat("\"", number,
                                                     "\": the reply must be a text of 1 to ",
                                                     kMaxAutoReplyLength, " characters"));
    }
    parsed.replies_.emplace(number, text.get<std::string>());
  }
  return parsed;
}

std::optional<std::string> InboundAutoReplies::For(std::string_view to) const {
  auto found = replies_.find(to);
  if (found == replies_.end()) found = replies_.find(kAnyNumber);
  if (found == replies_.end()) return std::nullopt;
  return found->second;
}

std::string ReplyTwiml(std::string_view text) {
  return absl::StrCat(R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>)",
                      twilio::XmlEscape(text), "</Message></Response>");
}

}  // namespace klaxon::ingress
