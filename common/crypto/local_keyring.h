#pragma once
// KeyWrapper over KEKs held in the process: a keyring document read from a file or the
// environment (KLAXON_KEYRING or KLAXON_KEYRING_FILE), shaped
//   {"current": 2, "keys": {"1": "<base64 of 32 bytes>", "2": "<base64 of 32 bytes>"}}
// Data keys are wrapped with AES-256-GCM under the KEK; the associated data names the KEK version
// and the caller's context, so neither can be swapped.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_wrapper.h"

namespace klaxon::crypto {

class LocalKeyring final : public KeyWrapper {
 public:
  // kInvalidArgument naming what is wrong (not JSON, a key that is not base64 of 32 bytes, a
  // current version the keyring does not hold, ...); never quotes key material.
  static absl::StatusOr<LocalKeyring> Parse(absl::string_view document);

  uint32_t CurrentVersion() const override { return current_; }
  absl::StatusOr<WrappedKey> Wrap(absl::string_view data_key, absl::string_view context) override;
  absl::StatusOr<std::string> Unwrap(const WrappedKey& wrapped, absl::string_view context) override;

 private:
  LocalKeyring(uint32_t current, std::map<uint32_t, std::string> keys)
      : current_(current), keys_(std::move(keys)) {}

  uint32_t current_;
  std::map<uint32_t, std::string> keys_;
};

}  // namespace klaxon::crypto
