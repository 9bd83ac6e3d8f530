#pragma once
// The blind index of a phone number: HMAC-SHA256 under a key of its own (never the KEKs, never
// the log token's key), so queries by recipient match stored rows without any plaintext number in
// the database. Deterministic by design: equal numbers give equal indexes under one key.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace klaxon::crypto {

class BlindIndex {
 public:
  static constexpr size_t kMinKeyBytes = 32;

  // kInvalidArgument when the key is shorter than kMinKeyBytes.
  static absl::StatusOr<BlindIndex> Create(std::string key);

  // 32 raw bytes of HMAC-SHA256(key, e164).
  std::string Compute(absl::string_view e164) const;

 private:
  explicit BlindIndex(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace klaxon::crypto
