#include "common/twilio/say.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace klaxon::twilio {
namespace {

bool AllOf(std::string_view s, bool (*accepted)(unsigned char)) {
  return std::all_of(s.begin(), s.end(),
                     [accepted](char c) { return accepted(static_cast<unsigned char>(c)); });
}

bool IsLower(unsigned char c) { return absl::ascii_islower(c); }
bool IsUpper(unsigned char c) { return absl::ascii_isupper(c); }
bool IsDigit(unsigned char c) { return absl::ascii_isdigit(c); }
bool IsVoiceNameCharacter(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_';
}

}  // namespace

bool IsSayLanguage(std::string_view tag) {
  const size_t dash = tag.find('-');
  const std::string_view language = tag.substr(0, dash);
  if (language.size() < 2 || language.size() > 3 || !AllOf(language, IsLower)) return false;
  if (dash == std::string_view::npos) return true;
  const std::string_view region = tag.substr(dash + 1);
  return (region.size() == 2 && AllOf(region, IsUpper)) ||
         (region.size() == 3 && AllOf(region, IsDigit));
}

bool IsSayVoice(std::string_view voice) {
  if (voice == "man" || voice == "woman" || voice == "alice") return true;
  for (const std::string_view family : {"Polly.", "Google."}) {
    if (!voice.starts_with(family)) continue;
    const std::string_view name = voice.substr(family.size());
    return !name.empty() && name.size() <= kMaxSayVoiceName && AllOf(name, IsVoiceNameCharacter);
  }
  return false;
}

}  // namespace klaxon::twilio
