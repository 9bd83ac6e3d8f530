#pragma once
// Envelope encryption of a record's personal fields (full phone number, message text, inbound
// text): each record gets a fresh data key; each field is sealed under it with its own nonce and
// associated data naming the record and the column; the data key is stored only wrapped by the
// keyring's current KEK. Rotation rewraps data keys without touching the sealed fields, and
// destroying a record's wrapped key (crypto-shredding) makes every field of it unreadable.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_wrapper.h"

namespace klaxon::crypto {

// Where a sealed field lives. Its associated data is built from all three, so a field copied to
// another record or column fails to open.
struct FieldBinding {
  absl::string_view table;
  absl::string_view record;  // the row's id, e.g. the alert id
  absl::string_view column;
};

// A record's plaintext data key, wiped from memory when destroyed.
class DataKey {
 public:
  explicit DataKey(std::string key) : key_(std::move(key)) {}
  DataKey(DataKey&& other) noexcept = default;
  DataKey& operator=(DataKey&& other) noexcept = default;
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  ~DataKey();

  absl::StatusOr<std::string> Seal(absl::string_view plaintext, const FieldBinding& binding) const;
  // kDataLoss when the field was altered or moved; never returns wrong data.
  absl::StatusOr<std::string> Open(absl::string_view sealed, const FieldBinding& binding) const;

 private:
  friend class Envelope;  // rewraps the key without exposing it to anyone else
  std::string key_;
};

struct NewDataKey {
  DataKey key;
  WrappedKey wrapped;  // what the record stores
};

class Envelope {
 public:
  explicit Envelope(KeyWrapper& keys) : keys_(keys) {}

  // A fresh data key for the record `record_context` (e.g. "alerts/<alert id>").
  absl::StatusOr<NewDataKey> NewKey(absl::string_view record_context);
  absl::StatusOr<DataKey> OpenKey(const WrappedKey& wrapped, absl::string_view record_context);
  // The same data key wrapped under the current KEK version (unchanged when it already is).
  absl::StatusOr<WrappedKey> Rewrap(const WrappedKey& wrapped, absl::string_view record_context);

 private:
  KeyWrapper& keys_;
};

}  // namespace klaxon::crypto
