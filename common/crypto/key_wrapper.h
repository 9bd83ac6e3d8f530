#pragma once
// Port: the key-encryption keys (KEKs) that wrap each record's data key. A wrapped key names the
// KEK version it is under, so the keyring can hold several versions while a rotation rewraps data
// keys from the old version to the current one; once no wrapped key names a version, that version
// can be removed. The local keyring (file or environment) is one adapter; a KMS would be another
// behind the same port.
//
// `context` is authenticated with the wrapped key (the row it belongs to), so a wrapped key
// copied to another row does not unwrap there.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace klaxon::crypto {

struct WrappedKey {
  uint32_t kek_version = 0;
  std::string sealed;  // opaque to callers

  friend bool operator==(const WrappedKey&, const WrappedKey&) = default;
};

class KeyWrapper {
 public:
  virtual ~KeyWrapper() = default;
  // The version new keys are wrapped under.
  virtual uint32_t CurrentVersion() const = 0;
  virtual absl::StatusOr<WrappedKey> Wrap(absl::string_view data_key,
                                          absl::string_view context) = 0;
  // kFailedPrecondition when the keyring lacks the version; kDataLoss when the wrapped key or
  // the context was altered.
  virtual absl::StatusOr<std::string> Unwrap(const WrappedKey& wrapped,
                                             absl::string_view context) = 0;
};

}  // namespace klaxon::crypto
