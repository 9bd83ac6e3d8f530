#pragma once
// Keyrings for tests (never for a deployment: the keys are derived from the version number, so
// anyone can compute them), and tampered ciphertext.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/aead.h"
#include "common/crypto/local_keyring.h"

namespace klaxon::crypto::testing {

// {"current": current, "keys": {"<v>": base64(32 bytes of 'A'+v), ...}} for each of `versions`.
inline std::string KeyringDocument(uint32_t current, std::initializer_list<uint32_t> versions) {
  std::string keys;
  for (uint32_t version : versions) {
    absl::StrAppend(&keys, keys.empty() ? "" : ", ", "\"", version, "\": \"",
                    absl::Base64Escape(std::string(kKeyBytes, static_cast<char>('A' + version))),
                    "\"");
  }
  return absl::StrCat(R"({"current": )", current, R"(, "keys": {)", keys, "}}");
}

// The keyring KeyringDocument(current, versions) describes.
inline LocalKeyring KeyringOf(uint32_t current, std::initializer_list<uint32_t> versions) {
  return LocalKeyring::Parse(KeyringDocument(current, versions)).value();
}

// `bytes` with the lowest bit of byte `index` flipped.
inline std::string FlipBit(std::string bytes, size_t index) {
  bytes.at(index) = static_cast<char>(bytes.at(index) ^ 0x01);
  return bytes;
}

}  // namespace klaxon::crypto::testing
