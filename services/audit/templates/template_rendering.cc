#include "services/audit/templates/template_rendering.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/templates/template_limits.h"
#include "common/twilio/segments.h"

namespace klaxon::audit {
namespace {

// An unknown parameter's name is echoed in the error only when it could name a placeholder and
// is no longer than this: the caller's map may hold any string.
constexpr size_t kMaxEchoedParameterName = templates::kMaxParameterName;

// A run of a template's text: literal text, or the name of a placeholder.
struct Piece {
  std::string_view text;
  bool placeholder = false;
};

// `text` cut into its literal runs and placeholders, in order. The error says what is wrong and
// where, for the caller to prefix with the field.
absl::StatusOr<std::vector<Piece>> Split(std::string_view text) {
  std::vector<Piece> pieces;
  size_t literal = 0;
  for (size_t open = text.find("{{"); open != std::string_view::npos;
       open = text.find("{{", literal)) {
    const size_t at = Characters(text.substr(0, open)) + 1;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unclosed placeholder at character ", at));
    }
    const absl::string_view name =
        absl::StripAsciiWhitespace(absl::string_view(text.data() + open + 2, close - open - 2));
    if (!IsPlaceholderName(std::string_view(name.data(), name.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "placeholder at character ", at, " must name a parameter with letters, digits and '_'"));
    }
    pieces.push_back({.text = text.substr(literal, open - literal)});
    pieces.push_back({.text = std::string_view(name.data(), name.size()), .placeholder = true});
    literal = close + 2;
  }
  pieces.push_back({.text = text.substr(literal)});
  return pieces;
}

}  // namespace

size_t Characters(std::string_view utf8) {
  // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool IsPlaceholderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

absl::Status CheckPlaceholders(std::string_view field, std::string_view text) {
  absl::StatusOr<std::vector<Piece>> pieces = Split(text);
  if (!pieces.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", pieces.status().message()));
  }
  // Within what a request may give (ingress refuses more), or no request could fill the text.
  std::set<std::string_view> names;
  for (const Piece& piece : *pieces) {
    if (!piece.placeholder) continue;
    if (piece.text.size() > templates::kMaxParameterName) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(field),
                                                     ": placeholder names are at most ",
                                                     templates::kMaxParameterName, " bytes"));
    }
    names.insert(piece.text);
  }
  if (names.size() > templates::kMaxParameters) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": has ", names.size(),
                                                   " placeholders, the limit is ",
                                                   templates::kMaxParameters));
  }
  return absl::OkStatus();
}

std::string Describe(const MessageTemplate& stored) {
  return absl::StrCat(stored.name, " (", stored.locale, " v", stored.version, ")");
}

absl::StatusOr<RenderedText> Render(const MessageTemplate& stored,
                                    klaxon::types::v1::Channel channel,
                                    const TemplateParameters& parameters) {
  const bool sms = channel == klaxon::types::v1::CHANNEL_SMS;
  if (!sms && channel != klaxon::types::v1::CHANNEL_VOICE) {
    return absl::InvalidArgumentError("channel: must be SMS or VOICE");
  }
  const char* const field = sms ? "sms_text" : "voice_script";
  const std::string& text = sms ? stored.sms_text : stored.voice_script;
  if (text.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("template ", Describe(stored), " has no ", field));
  }
  // As ingress checks them, for a caller that asks audit itself.
  if (absl::Status bounded = templates::CheckParameters(parameters); !bounded.ok()) return bounded;
  absl::StatusOr<std::vector<Piece>> pieces = Split(text);
  if (!pieces.ok()) {
    return absl::InternalError(absl::StrCat("template ", Describe(stored), ": stored ", field,
                                            " does not parse: ", pieces.status().message()));
  }

  // A placeholder may come back many times: past this many bytes the text is too long however
  // its characters are counted, so it stops growing there.
  constexpr size_t kMaxRenderedBytes = templates::kMaxParameterBytes;
  static_assert(kMaxRenderedBytes == kMaxTemplateTextCharacters * 4);
  RenderedText rendered;
  std::set<std::string_view> used;
  for (const Piece& piece : *pieces) {
    if (!piece.placeholder) {
      rendered.text.append(piece.text);
      continue;
    }
    const auto parameter = parameters.find(piece.text);
    if (parameter == parameters.end()) {
      return absl::InvalidArgumentError(absl::StrCat("template.parameters: missing \"",
                                                     std::string(piece.text),
                                                     "\", used by template ", Describe(stored)));
    }
    rendered.text.append(parameter->second);
    used.insert(piece.text);
    if (rendered.text.size() > kMaxRenderedBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("template.parameters: the ", field, " of template ", Describe(stored),
                       " would be longer than ", kMaxRenderedBytes, " bytes, the limit is ",
                       kMaxTemplateTextCharacters, " characters"));
    }
  }
  for (const auto& [name, value] : parameters) {
    if (used.contains(name)) continue;
    if (name.size() > kMaxEchoedParameterName || !IsPlaceholderName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("template.parameters: template ", Describe(stored),
                       " has no placeholder of a parameter's name (names are letters, digits "
                       "and '_')"));
    }
    return absl::InvalidArgumentError(absl::StrCat("template.parameters[", name, "]: template ",
                                                   Describe(stored), " has no placeholder ", name));
  }

  const size_t length = Characters(rendered.text);
  if (length == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "template.parameters: the ", field, " of template ", Describe(stored), " would be empty"));
  }
  if (length > kMaxTemplateTextCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(
        "template.parameters: the ", field, " of template ", Describe(stored), " would be ", length,
        " characters long, the limit is ", kMaxTemplateTextCharacters));
  }
  if (sms) rendered.segments = static_cast<uint32_t>(twilio::SmsSegments(rendered.text));
  return rendered;
}

}  // namespace klaxon::audit
