#pragma once
// The one-time codes of phone verification (docs/adr/0022): digits drawn from a CSPRNG, kept only
// as a keyed digest bound to their verification, and compared in constant time.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::ingress::verification {

inline constexpr int kMinCodeLength = 4;
inline constexpr int kMaxCodeLength = 10;

// Port: where codes come from, so tests choose the code they expect (STYLE.md: randomness is
// injected).
class CodeSource {
 public:
  virtual ~CodeSource() = default;
  // `length` decimal digits, each equally likely. kInternal when the CSPRNG fails.
  virtual absl::StatusOr<std::string> Mint(int length) = 0;
};

// OpenSSL's CSPRNG, one random byte per digit, bytes of 250 and over drawn again so that no
// digit is likelier than another.
class CsprngCodeSource final : public CodeSource {
 public:
  absl::StatusOr<std::string> Mint(int length) override;
};

// HMAC-SHA256 under `key` over the verification id and the code, hex: equal only for the same
// code of the same verification, and without the key it says nothing about the code.
std::string CodeDigest(std::string_view key, std::string_view verification_id,
                       std::string_view code);

// Whether `code` is the one `digest` was made from, compared in constant time.
bool CodeMatches(std::string_view key, std::string_view verification_id, std::string_view code,
                 std::string_view digest);

}  // namespace klaxon::ingress::verification
