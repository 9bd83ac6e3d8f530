#include "common/sms_acks/ack_reply.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace klaxon::sms_acks {

std::string AckInstruction(std::string_view code) {
  return absl::StrCat("\nReply ACK ", std::string(code), " to acknowledge.");
}

std::string WithoutAckInstruction(std::string_view text, std::string_view code) {
  const std::string instruction = AckInstruction(code);
  if (!text.ends_with(instruction)) return std::string(text);
  return std::string(text.substr(0, text.size() - instruction.size()));
}

std::optional<AckReply> ParseAckReply(std::string_view body) {
  absl::string_view rest = absl::StripAsciiWhitespace(absl::string_view(body.data(), body.size()));
  if (!absl::StartsWithIgnoreCase(rest, "ACK")) return std::nullopt;
  rest = absl::StripLeadingAsciiWhitespace(rest.substr(3));
  if (rest.empty()) return AckReply{};
  if (rest.size() != static_cast<size_t>(kAckCodeLength)) return std::nullopt;
  for (const char c : rest) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return AckReply{.code = std::string(rest)};
}

}  // namespace klaxon::sms_acks
