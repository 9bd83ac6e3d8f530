#pragma once
// What CreateTemplate accepts (ADR 0030), and the name and locale checks RenderTemplate applies
// to a template reference. Each refusal is kInvalidArgument naming the field as the request
// spells it ("template.sms_text: ..."), and never echoes the caller's value.

#include <string_view>

#include "absl/status/status.h"
#include "services/audit/templates/message_template.h"

namespace klaxon::audit {

// OK when `name` can name a template: 1 to 64 of [A-Za-z0-9._-]. Else "<field>: must be ...".
absl::Status CheckTemplateName(std::string_view field, std::string_view name);

// OK when `locale` is a language tag (twilio::IsSayLanguage). Else "<field>: must be a language tag ...".
absl::Status CheckLocale(std::string_view field, std::string_view locale);

// `created` as CreateTemplate received it (version and created_at are ignored):
//   template.name          CheckTemplateName
//   template.locale        CheckLocale
//   template.sms_text, template.voice_script
//                          at least one; each at most kMaxTemplateTextCharacters, with
//                          placeholders that parse (CheckPlaceholders)
//   template.voice_name    empty or twilio::IsSayVoice
//   template.language      empty or twilio::IsSayLanguage
absl::Status ValidateTemplate(const MessageTemplate& created);

}  // namespace klaxon::audit
