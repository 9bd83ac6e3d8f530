#pragma once
// A message template as audit keeps it (ADR 0030): one version of a caller's texts with
// {{placeholders}} under a name, in one locale. Templates hold no personal data (callers must keep
// it out of them; it travels in SendAlert's parameters), so they are plain fields, never sealed.

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace klaxon::audit {

struct MessageTemplate {
  std::string name{};    // 1 to 64 of [A-Za-z0-9._-]
  std::string locale{};  // a language tag: "en", "en-US", "es-419"
  uint32_t version = 0;  // 1, 2, ... per caller, name and locale; set by the store
  std::string sms_text{};
  std::string voice_script{};
  // How a call reads voice_script: a Twilio <Say> voice and language; empty for the
  // voice-worker's defaults.
  std::string voice_name{};
  std::string language{};
  // On creation: make this locale the name's default. As stored: whether it is the default.
  bool default_locale = false;
  absl::Time created_at{};  // set by the store

  friend bool operator==(const MessageTemplate&, const MessageTemplate&) = default;
};

}  // namespace klaxon::audit
