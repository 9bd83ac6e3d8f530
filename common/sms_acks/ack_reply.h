#pragma once
// The words of an acknowledgement by SMS (docs/adr/0024): the instruction appended to an alert
// sent with ack_by_reply, and the recipient's answer. A bare "ACK" acknowledges the voice alerts
// calling the sender; "ACK 4821" acknowledges the one SMS alert that asked for code 4821.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace klaxon::sms_acks {

inline constexpr int kAckCodeLength = 4;

// The line appended to the alert's text, its separating newline included: "\nReply ACK 4821 to
// acknowledge."
std::string AckInstruction(std::string_view code);
// The characters AckInstruction adds to a text.
inline constexpr size_t kAckInstructionCharacters = 31;
// `text` without the AckInstruction of `code` it ends with; `text` as it is when it does not.
std::string WithoutAckInstruction(std::string_view text, std::string_view code);

struct AckReply {
  std::string code;  // empty for a bare "ACK"
};

// "ACK" or "ACK <kAckCodeLength digits>", in any case, with spaces around it and any or none
// between the word and the code; nullopt for every other text.
std::optional<AckReply> ParseAckReply(std::string_view body);

}  // namespace klaxon::sms_acks
