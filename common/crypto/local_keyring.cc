#include "common/crypto/local_keyring.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/aead.h"
#include "nlohmann/json.hpp"

namespace klaxon::crypto {
namespace {

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("keyring: ", what));
}

std::string WrapAssociatedData(uint32_t version, absl::string_view context) {
  return absl::StrCat("klaxon/data-key/kek-v", version, "/", context);
}

absl::StatusOr<uint32_t> ParseVersion(const std::string& text) {
  uint32_t version = 0;
  if (!absl::SimpleAtoi(text, &version) || version == 0) {
    return Invalid(absl::StrCat("key version \"", text, "\" is not a positive integer"));
  }
  return version;
}

}  // namespace

absl::StatusOr<LocalKeyring> LocalKeyring::Parse(absl::string_view document) {
  const nlohmann::json json = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return Invalid("is not a JSON object");
  const auto current = json.find("current");
  if (current == json.end() || !current->is_number_unsigned() || *current == 0 ||
      current->get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
    return Invalid("\"current\" must be a positive integer key version");
  }
  const auto keys = json.find("keys");
  if (keys == json.end() || !keys->is_object() || keys->empty()) {
    return Invalid("\"keys\" must be an object of version -> base64 key");
  }
  std::map<uint32_t, std::string> parsed;
  for (const auto& [name, value] : keys->items()) {
    absl::StatusOr<uint32_t> version = ParseVersion(name);
    if (!version.ok()) return version.status();
    std::string key;
    if (!value.is_string() || !absl::Base64Unescape(value.get<std::string>(), &key) ||
        key.size() != kKeyBytes) {
      return Invalid(
          absl::StrCat("key version ", *version, " is not the base64 of ", kKeyBytes, " bytes"));
    }
    parsed.emplace(*version, std::move(key));
  }
  const auto current_version = current->get<uint32_t>();
  if (!parsed.contains(current_version)) {
    return Invalid(absl::StrCat("the current version ", current_version, " is not in \"keys\""));
  }
  return LocalKeyring(current_version, std::move(parsed));
}

absl::StatusOr<WrappedKey> LocalKeyring::Wrap(absl::string_view data_key,
                                              absl::string_view context) {
  absl::StatusOr<std::string> sealed =
      Seal(keys_.at(current_), data_key, WrapAssociatedData(current_, context));
  if (!sealed.ok()) return sealed.status();
  return WrappedKey{.kek_version = current_, .sealed = *std::move(sealed)};
}

absl::StatusOr<std::string> LocalKeyring::Unwrap(const WrappedKey& wrapped,
                                                 absl::string_view context) {
  const auto key = keys_.find(wrapped.kek_version);
  if (key == keys_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the data key is wrapped under key version ", wrapped.kek_version,
                     ", which the keyring does not hold; add that version to the keyring"));
  }
  absl::StatusOr<std::string> data_key =
      Open(key->second, wrapped.sealed, WrapAssociatedData(wrapped.kek_version, context));
  if (!data_key.ok()) {
    return absl::DataLossError(
        absl::StrCat("the wrapped data key did not unwrap under key version ", wrapped.kek_version,
                     ": ", std::string(data_key.status().message())));
  }
  return data_key;
}

}  // namespace klaxon::crypto
