#include "services/ingress/verification/verification_text.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace klaxon::ingress::verification {
namespace {

struct Phrases {
  absl::string_view locale;
  absl::string_view code_is;  // followed by the code
  absl::string_view again;    // before the call repeats the digits
  absl::string_view spoken;   // the call's <Say> language
};

constexpr std::array<Phrases, 4> kPhrases = {{
    {.locale = "en",
     .code_is = "Your verification code is",
     .again = "Once again, your code is",
     .spoken = "en-US"},
    {.locale = "de",
     .code_is = "Ihr Bestätigungscode lautet",
     .again = "Noch einmal, Ihr Code lautet",
     .spoken = "de-DE"},
    {.locale = "es",
     .code_is = "Su código de verificación es",
     .again = "Otra vez, su código es",
     .spoken = "es-ES"},
    {.locale = "fr",
     .code_is = "Votre code de vérification est",
     .again = "Encore une fois, votre code est",
     .spoken = "fr-FR"},
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

namespace {

// The locale's words; kInvalidArgument for an unknown locale.
absl::StatusOr<const Phrases*> PhrasesOf(std::string_view locale) {
  if (locale.empty()) locale = kDefaultLocale;
  for (const Phrases& candidate : kPhrases) {
    if (candidate.locale == absl::string_view(locale.data(), locale.size())) return &candidate;
  }
  // Echoed only when short: the answer carries it, and a caller may send anything.
  constexpr size_t kLongestEchoed = 16;
  return absl::InvalidArgumentError(absl::StrCat(
      "locale: ",
      locale.size() <= kLongestEchoed &&
              std::all_of(locale.begin(), locale.end(),
                          [](char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); })
          ? absl::StrCat("\"", std::string(locale), "\"")
          : std::string("the one given"),
      " has no verification text; known: ", KnownLocales()));
}

// UTF-8 characters: every byte but the continuation bytes (10xxxxxx) starts one.
size_t Characters(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

absl::Status CheckWording(const CodeWording& wording) {
  if (wording.caller_template.empty()) return PhrasesOf(wording.locale).status();
  const std::string_view text = wording.caller_template;
  const size_t first = text.find(kCodePlaceholder);
  if (first == std::string_view::npos ||
      text.find(kCodePlaceholder, first + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("template: must hold \"{code}\" exactly once");
  }
  if (Characters(text) > kMaxTemplateCharacters) {
    return absl::InvalidArgumentError(
        absl::StrCat("template: must be at most ", kMaxTemplateCharacters, " characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CodeMessage(types::v1::Channel channel, const CodeWording& wording,
                                        std::string_view code, std::string_view webotp_domain) {
  if (absl::Status checked = CheckWording(wording); !checked.ok()) return checked;
  const bool voice = channel == types::v1::CHANNEL_VOICE;
  // In a call, the digits one by one, and the whole message twice.
  const std::string shown = voice ? SpokenDigits(code) : std::string(code);
  std::string text;
  if (!wording.caller_template.empty()) {
    text = wording.caller_template;
    text.replace(text.find(kCodePlaceholder), kCodePlaceholder.size(), shown);
    if (voice) text = absl::StrCat(text, " ", text);
  } else {
    const Phrases& phrases = **PhrasesOf(wording.locale);
    text = voice ? absl::StrCat(phrases.code_is, ": ", shown, " ", phrases.again, ": ", shown)
                 : absl::StrCat(phrases.code_is, " ", shown);
  }
  if (!voice && !webotp_domain.empty()) {
    absl::StrAppend(&text, "\n\n@", std::string(webotp_domain), " #", std::string(code));
  }
  return text;
}

std::string CallLanguage(std::string_view locale) {
  absl::StatusOr<const Phrases*> phrases = PhrasesOf(locale);
  return phrases.ok() ? std::string((*phrases)->spoken) : std::string();
}

}  // namespace klaxon::ingress::verification
