#pragma once
// Twilio's status words, parsed once into enums (TWILIO.md, "Webhooks Twilio sends"): the status
// of a message, of a call, and who answered a call with machine detection on. The dispatcher, the
// voice worker, ingress and audit ask these what a word means instead of comparing strings, so
// "final" and "a machine answered" are decided in one place.

#include <optional>
#include <string_view>

namespace klaxon::twilio {

enum class MessageStatus {
  kAccepted,  // a Messaging Service took it
  kScheduled,
  kQueued,
  kSending,
  kSent,
  kDelivered,
  kRead,  // WhatsApp and RCS: delivered, and then read
  kUndelivered,
  kFailed,
  kCanceled,   // only a scheduled message can be
  kReceiving,  // inbound
  kReceived,   // inbound
  kPartiallyDelivered,
};

enum class CallStatus {
  kQueued,
  kInitiated,
  kRinging,
  kInProgress,
  kCompleted,
  kBusy,
  kNoAnswer,
  kFailed,
  kCanceled,
};

enum class AnsweredBy {
  kHuman,
  // A Call resource read back says only "machine" (OpenAPI: "Either `human` or `machine`"); a
  // word of Twilio's that begins with "machine" and is not one of those below is read as it too.
  kMachine,
  kMachineStart,
  kMachineEndBeep,
  kMachineEndSilence,
  kMachineEndOther,
  kFax,
  kUnknown,  // Twilio could not tell
};

// nullopt for a word Twilio may add later; callers treat such a status as not final.
std::optional<MessageStatus> ParseMessageStatus(std::string_view word);
std::optional<CallStatus> ParseCallStatus(std::string_view word);
// nullopt for an empty or unknown word (machine detection off).
std::optional<AnsweredBy> ParseAnsweredBy(std::string_view word);

// Twilio's own word for the status, as in callbacks and resources.
std::string_view ToString(MessageStatus status);
std::string_view ToString(CallStatus status);
std::string_view ToString(AnsweredBy answered_by);

// A status after which Twilio sends no further status for the message or call.
bool IsFinal(MessageStatus status);
bool IsFinal(CallStatus status);

// The same for a word as it arrives in a callback or a resource: a word Klaxon does not know is
// not final, so a status check keeps reading until it sees one it knows.
bool IsFinalMessageStatus(std::string_view word);
bool IsFinalCallStatus(std::string_view word);

// A machine or a fax answered: nobody heard the call.
bool IsMachine(AnsweredBy answered_by);

}  // namespace klaxon::twilio
