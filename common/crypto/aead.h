#pragma once
// AES-256-GCM, the one cipher Klaxon stores personal data under. A sealed value is
// nonce (12 bytes) || ciphertext || tag (16 bytes), with a fresh random nonce per seal, so it can
// be stored as one bytea column. The associated data is authenticated, not stored: whoever opens
// the value must present the same associated data (the row and column it belongs to), so a value
// copied to another row no longer opens.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace klaxon::crypto {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;

// `size` bytes from OpenSSL's CSPRNG. kInternal if it fails (it does not on a healthy system).
absl::StatusOr<std::string> RandomBytes(size_t size);

// kInvalidArgument for a key that is not kKeyBytes long.
absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view associated_data);

// kDataLoss when the value, its tag or the associated data do not match (altered, truncated or
// moved); kInvalidArgument for a key that is not kKeyBytes long. Never returns unauthenticated
// plaintext.
absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view associated_data);

}  // namespace klaxon::crypto
