#pragma once
// HMAC-SHA256, the keyed hash behind the log token of a phone number and its blind index.

#include <string>

#include "absl/strings/string_view.h"

namespace klaxon::crypto {

// 32 raw bytes. Aborts if OpenSSL fails, which over memory it does not.
std::string HmacSha256(absl::string_view key, absl::string_view data);

}  // namespace klaxon::crypto
