#include "services/ingress/send_alert_validation.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/caller_callbacks/callback_url.h"
#include "common/phone/phone.h"
#include "common/phone/time_zone.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "common/templates/template_limits.h"
#include "common/twilio/say.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::SendAlertRequest;

// Counts code points, which is what Twilio's 1600-character limit counts; nullopt when `text`
// is not UTF-8.
std::optional<size_t> Utf8Length(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t width = 0;
    if (lead < 0x80) {
      width = 1;
    } else if ((lead >> 5) == 0x6) {
      width = 2;
    } else if ((lead >> 4) == 0xE) {
      width = 3;
    } else if ((lead >> 3) == 0x1E) {
      width = 4;
    } else {
      return std::nullopt;
    }
    if (i + width > text.size()) return std::nullopt;
    for (size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) {
        return std::nullopt;
      }
    }
    i += width;
    ++count;
  }
  return count;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

// A caller's value for an error message: quoted when short and printable, else left out.
std::string Echo(std::string_view value) {
  return value.size() <= twilio::kMaxSayVoiceName && IsPrintableAscii(value)
             ? absl::StrCat("\"", std::string(value), "\" ")
             : std::string();
}

// The text to send: the request's, or its template's rendering (`field` names which).
absl::Status ValidateText(const SendAlertRequest& request, const std::string& text,
                          absl::string_view field) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  const std::optional<size_t> length = Utf8Length(text);
  if (!length.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
  }
  if (request.ack_by_reply() &&
      *length > kMaxTextCharacters - sms_acks::kAckInstructionCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", *length, " characters long, the limit is ",
        kMaxTextCharacters - sms_acks::kAckInstructionCharacters, " with ack_by_reply, whose ",
        sms_acks::kAckInstructionCharacters, "-character instruction ends the text"));
  }
  if (*length > kMaxTextCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", *length, " characters long, the limit is ", kMaxTextCharacters));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(const google::protobuf::Map<std::string, std::string>& metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return absl::InvalidArgumentError(absl::StrCat("metadata: has ", metadata.size(),
                                                   " entries, the limit is ", kMaxMetadataEntries));
  }
  for (const auto& [key, value] : metadata) {
    if (key.empty() || key.size() > kMaxMetadataKeyLength || !IsPrintableAscii(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata: keys must be 1 to ", kMaxMetadataKeyLength, " printable ASCII characters"));
    }
    if (value.size() > kMaxMetadataValueLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("metadata[", key, "]: is longer than ", kMaxMetadataValueLength, " bytes"));
    }
  }
  return absl::OkStatus();
}

static_assert(templates::kMaxParameterBytes == kMaxTextCharacters * 4,
              "template parameters fill a text of at most kMaxTextCharacters");

absl::Status ValidateChannel(types::v1::Channel channel) {
  if (channel == types::v1::CHANNEL_SMS || channel == types::v1::CHANNEL_VOICE) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "channel: must be CHANNEL_SMS or CHANNEL_VOICE, got ",
      types::v1::Channel_Name(channel).empty() ? absl::StrCat(static_cast<int>(channel))
                                               : types::v1::Channel_Name(channel)));
}

// A Duration as absl time; nanos out of proto's range are refused like any other bad value.
std::optional<absl::Duration> FromProto(const google::protobuf::Duration& duration) {
  if (duration.nanos() <= -1'000'000'000 || duration.nanos() >= 1'000'000'000) return std::nullopt;
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

// The recipient's time zone the request names, nullopt when it names none.
absl::StatusOr<std::optional<absl::TimeZone>> ValidateTimeZone(std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::optional<absl::TimeZone> zone =
      name.size() > kMaxTimeZoneLength ? std::nullopt : phone::KnownTimeZone(name);
  if (!zone.has_value()) {
    return absl::InvalidArgumentError(
        "time_zone: is not an IANA time zone name, like Europe/Berlin or America/New_York");
  }
  return zone;
}

// send_at when it is ahead of `now`, nullopt when unset or past.
absl::StatusOr<std::optional<absl::Time>> ValidateSendAt(const SendAlertRequest& request,
                                                         absl::Time now) {
  absl::StatusOr<std::optional<absl::Time>> send_at =
      prototime::FromCallerIfSet("send_at", request.has_send_at(), request.send_at());
  if (!send_at.ok() || !send_at->has_value()) return send_at;
  const absl::Time at = **send_at;
  if (at <= now) return std::nullopt;
  if (at - now > alert_lifetime::kMaxScheduleAhead) {
    return absl::InvalidArgumentError(absl::StrCat(
        "send_at: must be at most ", absl::FormatDuration(alert_lifetime::kMaxScheduleAhead),
        " ahead; ", absl::FormatTime(absl::RFC3339_sec, at, absl::UTCTimeZone()), " is ",
        absl::FormatDuration(absl::Trunc(at - now, absl::Seconds(1))), " away"));
  }
  return at;
}

absl::StatusOr<absl::Duration> ValidateTtl(const SendAlertRequest& request) {
  if (!request.has_ttl()) return kDefaultTtl;
  std::optional<absl::Duration> ttl = FromProto(request.ttl());
  if (!ttl.has_value() || *ttl < kMinTtl || *ttl > alert_lifetime::kMaxTimeToLive) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl: must be between ", absl::FormatDuration(kMinTtl), " and ",
                     absl::FormatDuration(alert_lifetime::kMaxTimeToLive), "; unset means ",
                     absl::FormatDuration(kDefaultTtl)));
  }
  return *ttl;
}

absl::StatusOr<std::optional<types::v1::VoicePolicy>> ValidateVoicePolicy(
    const SendAlertRequest& request) {
  if (request.channel() != types::v1::CHANNEL_VOICE) {
    if (request.has_voice()) {
      return absl::InvalidArgumentError("voice: applies only to CHANNEL_VOICE alerts");
    }
    return std::nullopt;
  }
  types::v1::VoicePolicy policy = request.voice();
  if (policy.max_calls() == 0) policy.set_max_calls(kDefaultVoiceCalls);
  if (policy.max_calls() > kMaxVoiceCalls) {
    return absl::InvalidArgumentError(absl::StrCat("voice.max_calls: must be 1 to ", kMaxVoiceCalls,
                                                   "; 0 means ", kDefaultVoiceCalls));
  }
  if (!policy.has_call_spacing()) {
    policy.mutable_call_spacing()->set_seconds(absl::ToInt64Seconds(kDefaultCallSpacing));
  }
  std::optional<absl::Duration> spacing = FromProto(policy.call_spacing());
  if (!spacing.has_value() || *spacing < absl::ZeroDuration() || *spacing > kMaxCallSpacing) {
    return absl::InvalidArgumentError(absl::StrCat(
        "voice.call_spacing: must be between 0s and ", absl::FormatDuration(kMaxCallSpacing),
        "; unset means ", absl::FormatDuration(kDefaultCallSpacing)));
  }
  if (!policy.language().empty() && !twilio::IsSayLanguage(policy.language())) {
    return absl::InvalidArgumentError(
        absl::StrCat("voice.language: ", Echo(policy.language()),
                     "is not a language tag like en-US or de-DE; empty means the voice-worker's"));
  }
  if (!policy.voice_name().empty() && !twilio::IsSayVoice(policy.voice_name())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "voice.voice_name: ", Echo(policy.voice_name()),
        "is not a Twilio voice (man, woman, alice, Polly.<name> or Google.<name>); empty means "
        "the voice-worker's"));
  }
  return policy;
}

}  // namespace

absl::Status ValidateIdempotencyKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("idempotency_key: is required");
  if (key.size() > kMaxIdempotencyKeyLength || !IsPrintableAscii(key)) {
    return absl::InvalidArgumentError(absl::StrCat("idempotency_key: must be 1 to ",
                                                   kMaxIdempotencyKeyLength,
                                                   " printable ASCII characters without spaces"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidatedAlert> ValidateSendAlert(const SendAlertRequest& request, absl::Time now) {
  if (absl::Status channel = ValidateChannel(request.channel()); !channel.ok()) return channel;
  if (request.recipient().empty()) return absl::InvalidArgumentError("recipient: is required");
  absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(request.recipient());
  if (!recipient.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("recipient: ", recipient.status().message()));
  }
  absl::StatusOr<ValidatedAlert> alert = ValidateAllButRecipient(request, now);
  if (alert.ok()) alert->recipient = recipient->e164;
  return alert;
}

absl::StatusOr<ValidatedAlert> ValidateAllButRecipient(const SendAlertRequest& request,
                                                       absl::Time now) {
  if (absl::Status channel = ValidateChannel(request.channel()); !channel.ok()) return channel;
  if (request.ack_by_reply() && request.channel() != types::v1::CHANNEL_SMS) {
    return absl::InvalidArgumentError(
        "ack_by_reply: only an SMS alert is acknowledged by a reply; a voice alert is "
        "acknowledged by a key press during the call, or by a reply of ACK");
  }
  if (request.has_template_() && !request.text().empty()) {
    return absl::InvalidArgumentError(
        "text: must be empty when template is set; the template gives the text");
  }
  // A template's text is checked once rendered (UseRendering).
  if (!request.has_template_()) {
    if (absl::Status status = ValidateText(request, request.text(), "text:"); !status.ok()) {
      return status;
    }
  } else if (absl::Status status = templates::CheckParameters(request.template_().parameters());
             !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateIdempotencyKey(request.idempotency_key()); !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateMetadata(request.metadata()); !status.ok()) return status;
  absl::StatusOr<absl::Duration> ttl = ValidateTtl(request);
  if (!ttl.ok()) return ttl.status();
  absl::StatusOr<std::optional<absl::Time>> send_at = ValidateSendAt(request, now);
  if (!send_at.ok()) return send_at.status();
  absl::StatusOr<std::optional<types::v1::VoicePolicy>> voice = ValidateVoicePolicy(request);
  if (!voice.ok()) return voice.status();
  if (!types::v1::Priority_IsValid(request.priority())) {
    return absl::InvalidArgumentError(
        absl::StrCat("priority: ", static_cast<int>(request.priority()),
                     " is not a priority; use PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH or "
                     "PRIORITY_CRITICAL"));
  }
  absl::StatusOr<std::optional<absl::TimeZone>> time_zone = ValidateTimeZone(request.time_zone());
  if (!time_zone.ok()) return time_zone.status();
  if (!request.callback_url().empty()) {
    if (absl::Status checked = caller_callbacks::CheckCallbackUrl(
            request.callback_url(), caller_callbacks::PlainHttp::kLoopbackOnly);
        !checked.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("callback_url: ", checked.message()));
    }
  }
  return ValidatedAlert{.text = request.has_template_() ? "" : request.text(),
                        .ttl = *ttl,
                        .send_at = *send_at,
                        .voice = *std::move(voice),
                        .priority = request.priority(),
                        .time_zone = *time_zone};
}

absl::Status UseRendering(const SendAlertRequest& request,
                          const alerts::v1::RenderedTemplate& rendered, ValidatedAlert& alert) {
  const std::string field = absl::StrCat("template: ", rendered.name(), " (", rendered.locale(),
                                         " v", rendered.version(), ") rendered");
  if (absl::Status status = ValidateText(request, rendered.text(), field); !status.ok()) {
    return status;
  }
  alert.text = rendered.text();
  alert.template_use = TemplateUse{
      .name = rendered.name(), .locale = rendered.locale(), .version = rendered.version()};
  // The template's voice and language read its script, unless the alert chose its own.
  if (alert.voice.has_value()) {
    if (alert.voice->language().empty()) alert.voice->set_language(rendered.language());
    if (alert.voice->voice_name().empty()) alert.voice->set_voice_name(rendered.voice_name());
  }
  return absl::OkStatus();
}

}  // namespace klaxon::ingress
