#include "common/crypto/personal_data.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::crypto {

std::string DataKeyOwner(absl::string_view table, absl::string_view record_id) {
  return absl::StrCat(table, "/", record_id);
}

absl::StatusOr<SealedRecord> PersonalData::Seal(absl::string_view table,
                                                absl::string_view record_id,
                                                const Fields& plaintext) {
  SealedRecord record{.owner = DataKeyOwner(table, record_id)};
  absl::StatusOr<NewDataKey> key = envelope_.NewKey(record.owner);
  if (!key.ok()) return key.status();
  for (const auto& [column, value] : plaintext) {
    absl::StatusOr<std::string> sealed =
        key->key.Seal(value, {.table = table, .record = record_id, .column = column});
    if (!sealed.ok()) return sealed.status();
    record.ciphertext.emplace(column, *std::move(sealed));
  }
  record.wrapped_key = std::move(key->wrapped);
  return record;
}

absl::StatusOr<Fields> PersonalData::Open(absl::string_view table, absl::string_view record_id,
                                          const WrappedKey& wrapped_key, const Fields& ciphertext) {
  absl::StatusOr<DataKey> key = envelope_.OpenKey(wrapped_key, DataKeyOwner(table, record_id));
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("the data key of ", DataKeyOwner(table, record_id), ": ",
                                     key.status().message()));
  }
  Fields plaintext;
  for (const auto& [column, sealed] : ciphertext) {
    absl::StatusOr<std::string> value =
        key->Open(sealed, {.table = table, .record = record_id, .column = column});
    if (!value.ok()) return value.status();
    plaintext.emplace(column, *std::move(value));
  }
  return plaintext;
}

}  // namespace klaxon::crypto
