#pragma once
// Validation of the phone numbers callers send alerts to. Klaxon accepts only E.164 ("+" and 8 to
// 15 digits, no spaces) that libphonenumber considers a valid number for its country, so a typo
// is rejected at the edge with a reason instead of costing a Twilio 21211 later.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::phone {

struct PhoneNumber {
  std::string e164{};          // "+14155552671"
  std::string country_code{};  // country calling code digits, "1"
  std::string last4{};         // "2671"

  friend bool operator==(const PhoneNumber&, const PhoneNumber&) = default;
};

// kInvalidArgument "... is not in E.164 form (+ and 8 to 15 digits)" for a malformed text, and
// "... is not a valid number for its country" for a well-formed text libphonenumber rejects.
// Messages never contain the number itself (it is personal data).
absl::StatusOr<PhoneNumber> ValidateE164(std::string_view text);

// The country calling code an E.164-form text starts with ("44" for "+4420..."), whether or not
// the number is valid; nullopt when the text is not in E.164 form or no code matches.
std::optional<std::string> CountryCallingCode(std::string_view e164);

// The ISO 3166 region of a valid E.164 number ("US", "GB"), as libphonenumber maps it; nullopt
// when it names none.
std::optional<std::string> RegionCode(std::string_view e164);

// True for a region libphonenumber knows ("GB", "US"; upper case), as RegionCode names them.
bool IsRegion(std::string_view code);

// True for a region of the North American Numbering Plan (+1: the US, Canada, much of the
// Caribbean), whose numbers cannot receive an alphanumeric sender ID.
bool IsNorthAmericanRegion(std::string_view code);

}  // namespace klaxon::phone
