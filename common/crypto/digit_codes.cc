#include "common/crypto/digit_codes.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace klaxon::crypto {

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

}  // namespace klaxon::crypto
