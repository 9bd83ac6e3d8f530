#include "services/ingress/verification/verification_text.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace klaxon::ingress::verification {
namespace {

struct Phrases {
  absl::string_view locale;
  absl::string_view code_is;  // followed by the code
  absl::string_view again;    // before the call repeats the digits
};

constexpr std::array<Phrases, 4> kPhrases = {{
    {.locale = "en", .code_is = "Your verification code is", .again = "Once again, your code is"},
    {.locale = "de", .code_is = "Ihr Bestätigungscode lautet", .again = "Noch einmal, Ihr Code lautet"},
    {.locale = "es", .code_is = "Su código de verificación es", .again = "Otra vez, su código es"},
    {.locale = "fr", .code_is = "Votre code de vérification est", .again = "Encore une fois, votre code est"},
}};

// "1. 2. 3.": each digit its own sentence, so a text-to-speech voice reads digits, not a number.
std::string SpokenDigits(std::string_view code) {
  std::string spoken;
  for (char digit : code) {
    absl::StrAppend(&spoken, spoken.empty() ? "" : " ", std::string(1, digit), ".");
  }
  return spoken;
}

}  // namespace

std::string KnownLocales() {
  return absl::StrJoin(kPhrases, ", ", [](std::string* out, const Phrases& phrases) {
    absl::StrAppend(out, phrases.locale);
  });
}

absl::StatusOr<std::string> CodeMessage(types::v1::Channel channel, std::string_view locale,
                                        std::string_view code, std::string_view webotp_domain) {
  if (locale.empty()) locale = kDefaultLocale;
  const Phrases* phrases = nullptr;
  for (const Phrases& candidate : kPhrases) {
    if (candidate.locale == absl::string_view(locale.data(), locale.size())) phrases = &candidate;
  }
  if (phrases == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("locale \"", std::string(locale),
                                                   "\" has no verification text; known: ",
                                                   KnownLocales()));
  }
  if (channel == types::v1::CHANNEL_VOICE) {
    const std::string digits = SpokenDigits(code);
    return absl::StrCat(phrases->code_is, ": ", digits, " ", phrases->again, ": ", digits);
  }
  std::string text = absl::StrCat(phrases->code_is, " ", std::string(code));
  if (!webotp_domain.empty()) {
    absl::StrAppend(&text, "\n\n@", std::string(webotp_domain), " #", std::string(code));
  }
  return text;
}

}  // namespace klaxon::ingress::verification
