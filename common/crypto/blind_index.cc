#include "common/crypto/blind_index.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"

namespace klaxon::crypto {

absl::StatusOr<BlindIndex> BlindIndex::Create(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the blind index key must be at least ", kMinKeyBytes, " bytes"));
  }
  return BlindIndex(std::move(key));
}

std::string BlindIndex::Compute(absl::string_view e164) const { return HmacSha256(key_, e164); }

}  // namespace klaxon::crypto
