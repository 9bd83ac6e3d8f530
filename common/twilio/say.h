#pragma once
// What TwiML's <Say> accepts as its language and voice, checked where a caller names them: on
// SendAlert's voice policy (ingress) and on a message template (audit).

#include <cstddef>
#include <string_view>

namespace klaxon::twilio {

// The longest Polly or Google voice name accepted after its family's prefix.
inline constexpr size_t kMaxSayVoiceName = 64;

// A language as Twilio names them: two or three lower-case letters, optionally a dash and a
// two-letter region or a three-digit area ("de", "de-DE", "cmn-CN", "es-419").
bool IsSayLanguage(std::string_view tag);

// Twilio's basic voices (man, woman, alice), or an Amazon Polly or Google voice by its full name
// ("Polly.Marlene", "Google.de-DE-Standard-A").
bool IsSayVoice(std::string_view voice);

}  // namespace klaxon::twilio
