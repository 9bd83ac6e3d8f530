#pragma once
// Checks a SendAlert request before anything is stored or published. Every rejection is
// kInvalidArgument with a message that names the field and says what is wrong with it.

#include <string>

#include "absl/status/statusor.h"
#include "klaxon/alerts/v1/alerts.pb.h"

namespace klaxon::ingress {

inline constexpr size_t kMaxTextCharacters = 1600;  // Twilio's limit for a message body
inline constexpr size_t kMaxIdempotencyKeyLength = 128;
inline constexpr size_t kMaxMetadataEntries = 16;
inline constexpr size_t kMaxMetadataKeyLength = 64;
inline constexpr size_t kMaxMetadataValueLength = 256;

// Returns the recipient in canonical E.164 form when the whole request is valid.
absl::StatusOr<std::string> ValidateSendAlert(const alerts::v1::SendAlertRequest& request);

}  // namespace klaxon::ingress
