#pragma once
// A record's personal fields, sealed: as audit stores them in Postgres
// (docs/adr/0008-audit-records.md) and as they travel in Kafka values under the transit keyring
// (common/transit, ADR 0013). A fresh data key per record, wrapped under the keyring's current
// key-encryption key with the record's owner name ("<table>/<record id>", the data_keys row) as
// context, and each field sealed under it with associated data naming the table, the record and the
// column. A field copied to another row or column, or a wrapped key copied to another record, fails
// to open instead of giving wrong data.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/envelope.h"
#include "common/crypto/key_wrapper.h"

namespace klaxon::crypto {

// Column name -> plaintext, or -> sealed bytes.
using Fields = std::map<std::string, std::string, std::less<>>;

struct SealedRecord {
  std::string owner;  // data_keys.owner
  WrappedKey wrapped_key;
  Fields ciphertext;  // column -> sealed bytes, for the record's row

  friend bool operator==(const SealedRecord&, const SealedRecord&) = default;
};

// The data_keys.owner of a record: also the context its data key is wrapped under.
std::string DataKeyOwner(absl::string_view table, absl::string_view record_id);

class PersonalData {
 public:
  explicit PersonalData(KeyWrapper& keys) : envelope_(keys) {}

  // Seals `plaintext` (column -> value) under a fresh data key for the record.
  absl::StatusOr<SealedRecord> Seal(absl::string_view table, absl::string_view record_id,
                                    const Fields& plaintext);

  // Opens the record's sealed columns. kDataLoss naming table.column and record when a field,
  // the wrapped key or their binding was altered; kFailedPrecondition when the keyring lacks
  // the key-encryption key version the data key is wrapped under.
  absl::StatusOr<Fields> Open(absl::string_view table, absl::string_view record_id,
                              const WrappedKey& wrapped_key, const Fields& ciphertext);

 private:
  Envelope envelope_;
};

}  // namespace klaxon::crypto
