#include "common/phone/phone.h"

#include <string>

#include "absl/status/status.h"
#include "phonenumbers/phonenumber.pb.h"
#include "phonenumbers/phonenumberutil.h"

namespace klaxon::phone {
namespace {

using ::i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMinDigits = 8;
constexpr size_t kMaxDigits = 15;

// "+" then 8 to 15 digits, the first not 0 (no country calling code starts with 0).
bool IsE164Form(std::string_view text) {
  if (text.size() < kMinDigits + 1 || text.size() > kMaxDigits + 1 || text[0] != '+' ||
      text[1] == '0') {
    return false;
  }
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PhoneNumber> ValidateE164(std::string_view text) {
  if (!IsE164Form(text)) {
    return absl::InvalidArgumentError("phone number is not in E.164 form (+ and 8 to 15 digits)");
  }
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  ::i18n::phonenumbers::PhoneNumber parsed;
  // "ZZ" (unknown region): the number must carry its own country calling code.
  const std::string input(text);
  std::string formatted;
  if (util.Parse(input, "ZZ", &parsed) == PhoneNumberUtil::NO_PARSING_ERROR &&
      util.IsValidNumber(parsed)) {
    util.Format(parsed, PhoneNumberUtil::E164, &formatted);
  }
  // A number that libphonenumber only accepts in another spelling is not canonical E.164.
  if (formatted != input) {
    return absl::InvalidArgumentError("phone number is not a valid number for its country");
  }
  return PhoneNumber{
      .e164 = input,
      .country_code = std::to_string(parsed.country_code()),
      .last4 = input.substr(input.size() - 4),
  };
}

std::optional<std::string> CountryCallingCode(std::string_view e164) {
  if (!IsE164Form(e164)) return std::nullopt;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  // Country calling codes are a prefix code of 1 to 3 digits, so at most one prefix matches.
  for (size_t length = 1; length <= 3; ++length) {
    const std::string code(e164.substr(1, length));
    std::string region;
    util.GetRegionCodeForCountryCode(std::stoi(code), &region);
    if (region != "ZZ") return code;
  }
  return std::nullopt;
}

std::optional<std::string> RegionCode(std::string_view e164) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  ::i18n::phonenumbers::PhoneNumber parsed;
  if (!IsE164Form(e164) ||
      util.Parse(std::string(e164), "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return std::nullopt;
  }
  std::string region;
  util.GetRegionCodeForNumber(parsed, &region);
  if (region.empty() || region == "ZZ") return std::nullopt;
  return region;
}

bool IsRegion(std::string_view code) {
  return code.size() == 2 &&
         PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(std::string(code)) != 0;
}

bool IsNorthAmericanRegion(std::string_view code) {
  return IsRegion(code) &&
         PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(std::string(code)) == 1;
}

}  // namespace klaxon::phone
