#pragma once
// The time zone a phone number is in, as libphonenumber's time-zone mapper gives it. The C++
// library has no mapper, so the build takes the mapper's data from Debian's python3-phonenumbers
// (time_zone_prefixes.py) and compiles it in.

#include <optional>
#include <string_view>

namespace klaxon::phone {

// The IANA time zone of an E.164 number ("+14155552671" -> "America/Los_Angeles", "+81..." ->
// "Asia/Tokyo"), by the longest prefix libphonenumber maps; nullopt when that prefix names
// several zones (a US toll-free number, most of Russia) or none, or the text is not "+" and
// digits.
std::optional<std::string_view> TimeZoneOf(std::string_view e164);

}  // namespace klaxon::phone
