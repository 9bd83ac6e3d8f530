#include "common/crypto/envelope.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/aead.h"

namespace klaxon::crypto {
namespace {

std::string FieldAssociatedData(const FieldBinding& binding) {
  // Length-prefixed parts, so ("a/b", "c") and ("a", "b/c") never give the same bytes.
  return absl::StrCat("klaxon/field/", binding.table.size(), ":", binding.table, "/",
                      binding.record.size(), ":", binding.record, "/", binding.column.size(), ":",
                      binding.column);
}

}  // namespace

DataKey::~DataKey() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> DataKey::Seal(absl::string_view plaintext,
                                          const FieldBinding& binding) const {
  return crypto::Seal(key_, plaintext, FieldAssociatedData(binding));
}

absl::StatusOr<std::string> DataKey::Open(absl::string_view sealed,
                                          const FieldBinding& binding) const {
  absl::StatusOr<std::string> plaintext = crypto::Open(key_, sealed, FieldAssociatedData(binding));
  if (!plaintext.ok()) {
    return absl::Status(plaintext.status().code(),
                        absl::StrCat(binding.table, ".", binding.column, " of ", binding.record,
                                     ": ", std::string(plaintext.status().message())));
  }
  return plaintext;
}

absl::StatusOr<NewDataKey> Envelope::NewKey(absl::string_view record_context) {
  absl::StatusOr<std::string> key = RandomBytes(kKeyBytes);
  if (!key.ok()) return key.status();
  absl::StatusOr<WrappedKey> wrapped = keys_.Wrap(*key, record_context);
  if (!wrapped.ok()) return wrapped.status();
  return NewDataKey{.key = DataKey(*std::move(key)), .wrapped = *std::move(wrapped)};
}

absl::StatusOr<DataKey> Envelope::OpenKey(const WrappedKey& wrapped,
                                          absl::string_view record_context) {
  absl::StatusOr<std::string> key = keys_.Unwrap(wrapped, record_context);
  if (!key.ok()) return key.status();
  return DataKey(*std::move(key));
}

absl::StatusOr<WrappedKey> Envelope::Rewrap(const WrappedKey& wrapped,
                                            absl::string_view record_context) {
  if (wrapped.kek_version == keys_.CurrentVersion()) return wrapped;
  absl::StatusOr<DataKey> key = OpenKey(wrapped, record_context);
  if (!key.ok()) return key.status();
  return keys_.Wrap(key->key_, record_context);
}

}  // namespace klaxon::crypto
