#pragma once
// The placeholders of message templates and their rendering (ADR 0030), pure. A placeholder is
// "{{name}}" with a name of letters, digits and '_', spaces around it allowed ("{{ host }}"); a
// single brace is plain text. CreateTemplate refuses a text whose placeholders do not parse
// (CheckPlaceholders), so Render only meets texts that do. Rendering puts each parameter's value
// in place of its placeholder as it is: a value is never searched for placeholders itself.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/twilio/segments.h"
#include "klaxon/types/v1/types.pb.h"
#include "services/audit/templates/message_template.h"

namespace klaxon::audit {

// The most characters a template's text and a rendered text may hold: Twilio's limit for a
// message body, which SendAlert applies to a voice script as well.
inline constexpr size_t kMaxTemplateTextCharacters = twilio::kMaxBodyCharacters;

// How many characters (code points) `utf8` holds, which is what the limits count. `utf8` is
// valid UTF-8, as protobuf strings and Postgres text are.
size_t Characters(std::string_view utf8);

// Whether `name` may name a placeholder: one or more of [A-Za-z0-9_].
bool IsPlaceholderName(std::string_view name);

// OK when every "{{" in `text` opens a well-formed placeholder. Otherwise kInvalidArgument
// naming `field` and where, counting characters from 1:
//   "<field>: unclosed placeholder at character 12" (a "{{" with no "}}" after it)
//   "<field>: placeholder at character 12 must name a parameter with letters, digits and '_'"
//   "<field>: placeholder names are at most 64 bytes", "<field>: has 33 placeholders, the
//   limit is 32" (templates::kMaxParameterName, kMaxParameters: what a request may give)
absl::Status CheckPlaceholders(std::string_view field, std::string_view text);

// "disk-full (en-US v3)": how messages name one version of a template.
std::string Describe(const MessageTemplate& stored);

// A value for each placeholder, by name; ordered, so the first unknown one reported is the same
// on every call.
using TemplateParameters = std::map<std::string, std::string, std::less<>>;

struct RenderedText {
  std::string text;
  // SMS: how many segments Twilio sends and bills the text as (GSM-7 or UCS-2, see
  // common/twilio/segments.h); 0 for voice.
  uint32_t segments = 0;
};

// `stored`'s text for `channel` (sms_text for SMS, voice_script for VOICE) with the parameters in
// place of its placeholders:
//   kInvalidArgument     channel is neither SMS nor VOICE ("channel: ..."); a placeholder has no
//                        parameter ("template.parameters: missing \"host\", used by template
//                        disk-full (en-US v3)"); a parameter has no placeholder in this text
//                        ("template.parameters[hostname]: template disk-full (en-US v3) has no
//                        placeholder hostname"); or the result is empty or longer than
//                        kMaxTemplateTextCharacters (naming the template and the length)
//   kFailedPrecondition  the template has no text for `channel` ("template disk-full (de-DE v2)
//                        has no voice_script")
//   kInternal            the stored text's placeholders do not parse (CreateTemplate checked
//                        them, so the row was changed behind audit's back)
// Error messages name parameters, never their values (which may be personal data).
absl::StatusOr<RenderedText> Render(const MessageTemplate& stored,
                                    klaxon::types::v1::Channel channel,
                                    const TemplateParameters& parameters);

}  // namespace klaxon::audit
