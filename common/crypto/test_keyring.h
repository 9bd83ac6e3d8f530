#pragma once
// Keyring documents for tests (never for a deployment: the keys are derived from the version
// number, so anyone can compute them).

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/aead.h"

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

}  // namespace klaxon::crypto::testing
