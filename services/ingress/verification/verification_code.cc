#include "services/ingress/verification/verification_code.h"

#include <openssl/crypto.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"

namespace klaxon::ingress::verification {

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
