#pragma once
// Port: the data_keys table as key rotation sees it (docs/adr/0008-audit-records.md). Rotation
// pages through the keys not yet under the keyring's current KEK version and writes each back
// rewrapped, but only if the row still holds what was read: audit keeps inserting new keys and
// retention keeps deleting old ones while a rotation runs, and another rotation may run at the
// same time, so a row that changed in between is left to whoever changed it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/key_wrapper.h"

namespace klaxon::audit {

struct StoredDataKey {
  std::string owner;  // data_keys.owner, also the context the key is wrapped under
  crypto::WrappedKey wrapped;
};

// Replace `expected` by `replacement` in the row of `owner`, if the row still holds `expected`.
struct DataKeyUpdate {
  std::string owner;
  crypto::WrappedKey expected;
  crypto::WrappedKey replacement;
};

class DataKeyStore {
 public:
  virtual ~DataKeyStore() = default;

  // Up to `limit` keys whose KEK version is not `version` and whose owner sorts after
  // `after_owner` (bytewise; "" is before every owner), in owner order.
  virtual absl::StatusOr<std::vector<StoredDataKey>> KeysNotUnder(uint32_t version,
                                                                  std::string_view after_owner,
                                                                  size_t limit) = 0;

  // Applies, in one transaction, each update whose row still holds its `expected` key (version
  // and bytes); an update whose row changed or is gone writes nothing. Returns how many rows were
  // written.
  virtual absl::StatusOr<size_t> ReplaceIfUnchanged(const std::vector<DataKeyUpdate>& updates) = 0;

  // KEK version -> how many keys are wrapped under it (versions without keys are absent).
  virtual absl::StatusOr<std::map<uint32_t, int64_t>> CountByVersion() = 0;
};

}  // namespace klaxon::audit
