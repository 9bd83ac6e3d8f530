#include "common/twilio/statuses.h"

#include <array>
#include <utility>

namespace klaxon::twilio {
namespace {

template <typename Enum, size_t N>
using Words = std::array<std::pair<Enum, std::string_view>, N>;

constexpr Words<MessageStatus, 13> kMessageWords{{
    {MessageStatus::kAccepted, "accepted"},
    {MessageStatus::kScheduled, "scheduled"},
    {MessageStatus::kQueued, "queued"},
    {MessageStatus::kSending, "sending"},
    {MessageStatus::kSent, "sent"},
    {MessageStatus::kDelivered, "delivered"},
    {MessageStatus::kRead, "read"},
    {MessageStatus::kUndelivered, "undelivered"},
    {MessageStatus::kFailed, "failed"},
    {MessageStatus::kCanceled, "canceled"},
    {MessageStatus::kReceiving, "receiving"},
    {MessageStatus::kReceived, "received"},
    {MessageStatus::kPartiallyDelivered, "partially_delivered"},
}};

constexpr Words<CallStatus, 9> kCallWords{{
    {CallStatus::kQueued, "queued"},
    {CallStatus::kInitiated, "initiated"},
    {CallStatus::kRinging, "ringing"},
    {CallStatus::kInProgress, "in-progress"},
    {CallStatus::kCompleted, "completed"},
    {CallStatus::kBusy, "busy"},
    {CallStatus::kNoAnswer, "no-answer"},
    {CallStatus::kFailed, "failed"},
    {CallStatus::kCanceled, "canceled"},
}};

constexpr Words<AnsweredBy, 8> kAnsweredByWords{{
    {AnsweredBy::kHuman, "human"},
    {AnsweredBy::kMachine, "machine"},
    {AnsweredBy::kMachineStart, "machine_start"},
    {AnsweredBy::kMachineEndBeep, "machine_end_beep"},
    {AnsweredBy::kMachineEndSilence, "machine_end_silence"},
    {AnsweredBy::kMachineEndOther, "machine_end_other"},
    {AnsweredBy::kFax, "fax"},
    {AnsweredBy::kUnknown, "unknown"},
}};

template <typename Enum, size_t N>
std::optional<Enum> Parse(const Words<Enum, N>& words, std::string_view word) {
  for (const auto& [value, text] : words) {
    if (text == word) return value;
  }
  return std::nullopt;
}

template <typename Enum, size_t N>
std::string_view Word(const Words<Enum, N>& words, Enum value) {
  for (const auto& [candidate, text] : words) {
    if (candidate == value) return text;
  }
  return "";  // unreachable: every enumerator has its word
}

}  // namespace

std::optional<MessageStatus> ParseMessageStatus(std::string_view word) {
  return Parse(kMessageWords, word);
}
std::optional<CallStatus> ParseCallStatus(std::string_view word) { return Parse(kCallWords, word); }
std::optional<AnsweredBy> ParseAnsweredBy(std::string_view word) {
  if (std::optional<AnsweredBy> known = Parse(kAnsweredByWords, word)) return known;
  // A machine, however Twilio words it: a voicemail must never count as a person who heard.
  if (word.starts_with("machine")) return AnsweredBy::kMachine;
  return std::nullopt;
}

std::string_view ToString(MessageStatus status) { return Word(kMessageWords, status); }
std::string_view ToString(CallStatus status) { return Word(kCallWords, status); }
std::string_view ToString(AnsweredBy answered_by) { return Word(kAnsweredByWords, answered_by); }

bool IsFinal(MessageStatus status) {
  switch (status) {
    case MessageStatus::kDelivered:
    case MessageStatus::kRead:
    case MessageStatus::kUndelivered:
    case MessageStatus::kFailed:
    case MessageStatus::kCanceled:
      return true;
    default:
      return false;
  }
}

bool IsFinal(CallStatus status) {
  switch (status) {
    case CallStatus::kCompleted:
    case CallStatus::kBusy:
    case CallStatus::kNoAnswer:
    case CallStatus::kFailed:
    case CallStatus::kCanceled:
      return true;
    default:
      return false;
  }
}

bool IsFinalMessageStatus(std::string_view word) {
  const std::optional<MessageStatus> status = ParseMessageStatus(word);
  return status.has_value() && IsFinal(*status);
}

bool IsFinalCallStatus(std::string_view word) {
  const std::optional<CallStatus> status = ParseCallStatus(word);
  return status.has_value() && IsFinal(*status);
}

bool IsMachine(AnsweredBy answered_by) {
  switch (answered_by) {
    case AnsweredBy::kMachine:
    case AnsweredBy::kMachineStart:
    case AnsweredBy::kMachineEndBeep:
    case AnsweredBy::kMachineEndSilence:
    case AnsweredBy::kMachineEndOther:
    case AnsweredBy::kFax:
      return true;
    default:
      return false;
  }
}

}  // namespace klaxon::twilio
