#include "services/ingress/send_alert_validation.h"

#include <algorithm>

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

absl::Status ValidateIdempotencyKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("idempotency_key: is required");
  if (key.size() > kMaxIdempotencyKeyLength || !IsPrintableAscii(key)) {
    return absl::InvalidArgumentError(absl::StrCat("idempotency_key: must be 1 to ",
                                                   kMaxIdempotencyKeyLength,
                                                   " printable ASCII characters without spaces"));
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

}  // namespace

absl::StatusOr<std::string> ValidateSendAlert(const SendAlertRequest& request) {
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
  return recipient->e164;
}

}  // namespace klaxon::ingress
