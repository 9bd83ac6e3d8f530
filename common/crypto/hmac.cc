#include "common/crypto/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace klaxon::crypto {

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &length) == nullptr) {
    // Nothing derived from this key could be trusted afterwards.
    std::fputs("klaxon::crypto: HMAC-SHA256 failed\n", stderr);
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

}  // namespace klaxon::crypto
