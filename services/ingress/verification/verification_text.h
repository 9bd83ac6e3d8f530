#pragma once
// What a verification says: the SMS text or the call's script carrying the code, per locale, or
// in a caller's own words (a template with "{code}").

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress::verification {

inline constexpr std::string_view kDefaultLocale = "en";
inline constexpr std::string_view kCodePlaceholder = "{code}";
inline constexpr size_t kMaxTemplateCharacters = 320;

// "en, de, es, fr": the locales there is a text for, for error messages and --help.
std::string KnownLocales();

// What a code's message says, before the code is known: the locale's words, or the caller's.
struct CodeWording {
  std::string locale;           // empty: kDefaultLocale
  std::string caller_template;  // empty: the locale's words
};

// kInvalidArgument naming what is wrong: an unknown locale (listing the known ones), or a template
// without exactly one "{code}", empty or over kMaxTemplateCharacters.
absl::Status CheckWording(const CodeWording& wording);

// The SMS text ("Your verification code is 123456"), ending, when `webotp_domain` is set, with
// the line "@<domain> #<code>" that lets a phone offer the code to that site (WebOTP); or the
// call's script, the digits spoken one by one, twice. Errors as CheckWording.
absl::StatusOr<std::string> CodeMessage(types::v1::Channel channel, const CodeWording& wording,
                                        std::string_view code, std::string_view webotp_domain);

// The language the call reads the code in: "de-DE" for "de", kDefaultLocale's for an empty one;
// empty (the voice-worker's language) for a locale without words here, which a caller's own
// template may name.
std::string CallLanguage(std::string_view locale);

}  // namespace klaxon::ingress::verification
