#pragma once
// Time zones: the one a phone number is in, as libphonenumber's time-zone mapper gives it (the C++
// library has no mapper, so the build takes the mapper's data from Debian's python3-phonenumbers,
// time_zone_prefixes.py, and compiles it in), and IANA zones by name.

#include <optional>
#include <string_view>

#include "absl/time/time.h"

namespace klaxon::phone {

// The IANA time zone of an E.164 number ("+14155552671" -> "America/Los_Angeles", "+81..." ->
// "Asia/Tokyo"), by the longest prefix libphonenumber maps; nullopt when that prefix names
// several zones (a US toll-free number, most of Russia) or none, or the text is not "+" and
// digits.
std::optional<std::string_view> TimeZoneOf(std::string_view e164);

// The IANA zone `name` ("Europe/Berlin") when the machine's tzdata lists it as a zone or a link
// (/usr/share/zoneinfo/tzdata.zi, read once); nullopt otherwise, and for every name when tzdata
// is missing. Only listed names reach absl::LoadTimeZone, which reads the name as a file path
// and remembers every name it was asked for: a caller's text never opens a file or grows memory.
std::optional<absl::TimeZone> KnownTimeZone(std::string_view name);

}  // namespace klaxon::phone
