#include "services/ingress/verification/verification_code.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"

namespace klaxon::ingress::verification {

namespace {
// The largest multiple of 10 a byte holds: bytes at or over it would favour the digits 0 to 5.
constexpr unsigned char kUnbiasedBytes = 250;
}  // namespace

absl::StatusOr<std::string> CsprngCodeSource::Mint(int length) {
  std::string code;
  code.reserve(static_cast<size_t>(length));
  std::array<unsigned char, 32> bytes{};
  while (code.size() < static_cast<size_t>(length)) {
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      return absl::InternalError("the CSPRNG failed to give random bytes for a code");
    }
    for (unsigned char byte : bytes) {
      if (byte >= kUnbiasedBytes || code.size() == static_cast<size_t>(length)) continue;
      code.push_back(static_cast<char>('0' + byte % 10));
    }
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return code;
}

std::string CodeDigest(std::string_view key, std::string_view verification_id,
                       std::string_view code) {
  // The id is a fixed-form UUID without ':', so the joined text names one (id, code) pair.
  return absl::BytesToHexString(crypto::HmacSha256(
      absl::string_view(key.data(), key.size()),
      absl::StrCat("verification-code:", std::string(verification_id), ":", std::string(code))));
}

bool CodeMatches(std::string_view key, std::string_view verification_id, std::string_view code,
                 std::string_view digest) {
  const std::string computed = CodeDigest(key, verification_id, code);
  return computed.size() == digest.size() &&
         CRYPTO_memcmp(computed.data(), digest.data(), computed.size()) == 0;
}

}  // namespace klaxon::ingress::verification
