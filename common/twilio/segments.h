#pragma once
// How many segments an SMS body is sent and billed as (Twilio's "num_segments").

#include <cstddef>
#include <string_view>

namespace klaxon::twilio {

// Twilio's limit on a message body, in characters (code points): longer is error 21617.
inline constexpr size_t kMaxBodyCharacters = 1600;

// GSM-7 when every character is in the GSM 03.38 alphabet, whose extension characters
// (^ { } \ [ ] ~ | €) take two septets: 160 septets fit one segment, 153 fit each segment of a
// longer message. Any other character makes the whole body UCS-2: 70 UTF-16 units in one
// segment, 67 in each of several. An empty body is one segment; a byte that is not UTF-8 counts
// as one UCS-2 character.
int SmsSegments(std::string_view utf8_body);

}  // namespace klaxon::twilio
