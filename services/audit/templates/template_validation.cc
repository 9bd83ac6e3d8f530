#include "services/audit/templates/template_validation.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/twilio/say.h"
#include "services/audit/templates/template_rendering.h"

namespace klaxon::audit {
namespace {

constexpr size_t kMaxTemplateName = 64;

bool AllOf(std::string_view s, bool (*accepted)(unsigned char)) {
  return std::all_of(s.begin(), s.end(), [accepted](char c) {
    return accepted(static_cast<unsigned char>(c));
  });
}


// A template's SMS text or voice script, named `field`; empty is allowed (ValidateTemplate wants
// one of the two).
absl::Status ValidateText(std::string_view field, std::string_view text) {
  const size_t length = Characters(text);
  if (length > kMaxTemplateTextCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": is ", length,
                                                   " characters long, the limit is ",
                                                   kMaxTemplateTextCharacters));
  }
  return CheckPlaceholders(field, text);
}

}  // namespace

absl::Status CheckTemplateName(std::string_view field, std::string_view name) {
  if (!name.empty() && name.size() <= kMaxTemplateName && AllOf(name, [](unsigned char c) {
        return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
      })) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": must be 1 to ", kMaxTemplateName, " of [A-Za-z0-9._-]"));
}

absl::Status CheckLocale(std::string_view field, std::string_view locale) {
  if (twilio::IsSayLanguage(locale)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": must be a language tag like en, en-US or es-419"));
}

absl::Status ValidateTemplate(const MessageTemplate& created) {
  if (absl::Status name = CheckTemplateName("template.name", created.name); !name.ok()) {
    return name;
  }
  if (absl::Status locale = CheckLocale("template.locale", created.locale); !locale.ok()) {
    return locale;
  }
  if (created.sms_text.empty() && created.voice_script.empty()) {
    return absl::InvalidArgumentError(
        "template.sms_text, template.voice_script: at least one is required");
  }
  if (absl::Status sms = ValidateText("template.sms_text", created.sms_text); !sms.ok()) {
    return sms;
  }
  if (absl::Status voice = ValidateText("template.voice_script", created.voice_script);
      !voice.ok()) {
    return voice;
  }
  if (!created.voice_name.empty() && !twilio::IsSayVoice(created.voice_name)) {
    return absl::InvalidArgumentError(
        "template.voice_name: must be a Twilio voice (man, woman, alice, Polly.<name> or "
        "Google.<name>); empty means the voice-worker's");
  }
  if (!created.language.empty() && !twilio::IsSayLanguage(created.language)) {
    return absl::InvalidArgumentError(
        "template.language: must be a language tag like en-US or de-DE; empty means the "
        "voice-worker's");
  }
  return absl::OkStatus();
}

}  // namespace klaxon::audit
