#pragma once
// Key rotation (docs/adr/0008-audit-records.md, "Rotation rewraps, never re-encrypts"): every
// data key not under the keyring's current KEK version is unwrapped and wrapped again under the
// current one, page by page, each page written back in one short transaction. The sealed fields
// are never touched, so the cost is one 32-byte key per record.
//
// Online and repeatable: a row is written only if it still holds the key that was read (a
// concurrent writer, retention or a second rotation wins and its row is left alone); rows
// already under the current version are never read. A pass that left keys under other versions
// (conflicts, or rows written meanwhile by a replica still on the old keyring) is followed by
// another, and the rotation fails rather than report success while any key names another
// version.

#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/key_wrapper.h"
#include "common/timing/clock.h"
#include "nlohmann/json.hpp"
#include "services/audit/admin/data_key_store.h"

namespace klaxon::audit {

struct RotationOptions {
  // Keys read, rewrapped and written back per transaction.
  size_t batch_size = 5000;
  // Batches rewrapped and written back at once, each on its own thread (with Postgres, its own
  // connection) while the next one is read. Above 1 the keyring and the store must be safe to
  // call from several threads at once (LocalKeyring and PostgresDataKeys are).
  size_t threads = 2;
  // Passes over the table before giving up on keys that keep appearing under other versions.
  int max_passes = 3;
};

struct RotationReport {
  uint32_t current_version = 0;
  int64_t rewrapped = 0;        // keys this rotation wrote under the current version
  int64_t already_current = 0;  // keys under the current version when it started
  // Keys read but changed (or deleted) by someone else before they could be written back; left
  // as that writer left them.
  int64_t changed_concurrently = 0;
  // KEK version -> keys still under it at the end (empty on success).
  std::map<uint32_t, int64_t> remaining;
  int passes = 0;
  absl::Duration elapsed;
};

// {"current_version", "rewrapped", "already_current", "changed_concurrently",
//  "remaining": {"<version>": keys}, "passes", "seconds"}: what `rotate` prints and logs.
nlohmann::json ToJson(const RotationReport& report);

// Rewraps every data key in `store` under `keys.CurrentVersion()`.
//   kFailedPrecondition naming the version when a key is under a version the keyring lacks
//     (nothing after it is rewrapped; add the version and run again), or when keys under other
//     versions remain after options.max_passes passes (an audit replica still wraps new keys
//     under an old version);
//   kDataLoss naming the owner when a wrapped key does not unwrap (altered);
//   the store's status when it fails (kUnavailable: run again, finished pages stay rewrapped).
// Error messages say how many keys were rewrapped before the failure.
absl::StatusOr<RotationReport> RotateDataKeys(DataKeyStore& store, crypto::KeyWrapper& keys,
                                              timing::Clock& clock,
                                              const RotationOptions& options = {});

}  // namespace klaxon::audit
