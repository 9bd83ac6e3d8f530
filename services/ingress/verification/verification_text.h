#pragma once
// What a verification says: the SMS text or the call's script carrying the code, per locale.
// Built in for the locales below; templates of a caller's own come with issue 14's templates.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress::verification {

inline constexpr std::string_view kDefaultLocale = "en";

// "en, de, es, fr": the locales there is a text for, for error messages and --help.
std::string KnownLocales();

// The SMS text ("Your verification code is 123456"), ending, when `webotp_domain` is set, with
// the line "@<domain> #<code>" that lets a phone offer the code to that site (WebOTP); or the
// call's script, the digits spoken one by one, twice. An empty locale is kDefaultLocale;
// kInvalidArgument names an unknown one and lists the known ones.
absl::StatusOr<std::string> CodeMessage(types::v1::Channel channel, std::string_view locale,
                                        std::string_view code, std::string_view webotp_domain);

}  // namespace klaxon::ingress::verification
