#include "services/ingress/send_alert_validation.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/phone/phone.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::SendAlertRequest;

// Counts code points, which is what Twilio's 1600-character limit counts.
absl::StatusOr<size_t> Utf8Length(std::string_view text) {
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
      return absl::InvalidArgumentError("text: is not valid UTF-8");
    }
    if (i + width > text.size()) return absl::InvalidArgumentError("text: is not valid UTF-8");
    for (size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) {
        return absl::InvalidArgumentError("text: is not valid UTF-8");
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

absl::Status ValidateText(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("text: is required");
  absl::StatusOr<size_t> length = Utf8Length(text);
  if (!length.ok()) return length.status();
  if (*length > kMaxTextCharacters) {
    return absl::InvalidArgumentError(
        absl::StrCat("text: is ", *length, " characters long, the limit is ", kMaxTextCharacters));
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

// A Duration as absl time; nanos out of proto's range are refused like any other bad value.
std::optional<absl::Duration> FromProto(const google::protobuf::Duration& duration) {
  if (duration.nanos() <= -1'000'000'000 || duration.nanos() >= 1'000'000'000) return std::nullopt;
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
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

absl::StatusOr<ValidatedAlert> ValidateSendAlert(const SendAlertRequest& request) {
  if (request.channel() != types::v1::CHANNEL_SMS &&
      request.channel() != types::v1::CHANNEL_VOICE) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel: must be CHANNEL_SMS or CHANNEL_VOICE, got ",
                     types::v1::Channel_Name(request.channel()).empty()
                         ? absl::StrCat(static_cast<int>(request.channel()))
                         : types::v1::Channel_Name(request.channel())));
  }
  if (request.recipient().empty()) return absl::InvalidArgumentError("recipient: is required");
  absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(request.recipient());
  if (!recipient.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("recipient: ", recipient.status().message()));
  }
  if (absl::Status status = ValidateText(request.text()); !status.ok()) return status;
  if (absl::Status status = ValidateIdempotencyKey(request.idempotency_key()); !status.ok()) {
    return status;
  }
  if (absl::Status status = ValidateMetadata(request.metadata()); !status.ok()) return status;
  absl::StatusOr<absl::Duration> ttl = ValidateTtl(request);
  if (!ttl.ok()) return ttl.status();
  absl::StatusOr<std::optional<types::v1::VoicePolicy>> voice = ValidateVoicePolicy(request);
  if (!voice.ok()) return voice.status();
  return ValidatedAlert{.recipient = recipient->e164, .ttl = *ttl, .voice = *std::move(voice)};
}

}  // namespace klaxon::ingress
