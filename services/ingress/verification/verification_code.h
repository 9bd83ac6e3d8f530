#pragma once
// The one-time codes of phone verification (docs/adr/0022): digits drawn from a CSPRNG
// (crypto::CodeSource), kept only
// as a keyed digest bound to their verification, and compared in constant time.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/crypto/digit_codes.h"

namespace klaxon::ingress::verification {

inline constexpr int kMinCodeLength = 4;
inline constexpr int kMaxCodeLength = 10;

// HMAC-SHA256 under `key` over the verification id and the code, hex: equal only for the same
// code of the same verification, and without the key it says nothing about the code.
std::string CodeDigest(std::string_view key, std::string_view verification_id,
                       std::string_view code);

// Whether `code` is the one `digest` was made from, compared in constant time.
bool CodeMatches(std::string_view key, std::string_view verification_id, std::string_view code,
                 std::string_view digest);

}  // namespace klaxon::ingress::verification
