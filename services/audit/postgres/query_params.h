#pragma once
// How audit's list queries bind an optional filter: as a text parameter that is SQL NULL when the
// filter is unset, so one statement serves every combination ("$n IS NULL OR ..."), and times as
// integer microseconds since the epoch; and how its batch statements take many rows at once, as one
// JSON document.

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {

// libpqxx sends a null `const char*` as SQL NULL.
inline const char* OrNull(const std::optional<std::string>& value) {
  return value.has_value() ? value->c_str() : nullptr;
}

inline std::optional<std::string> MicrosParam(const std::optional<absl::Time>& time) {
  if (!time.has_value()) return std::nullopt;
  return absl::StrCat(absl::ToUnixMicros(*time));
}

// A JSON document for one parameter. Invalid UTF-8 (which only free text can hold) is replaced
// rather than refused.
inline std::string JsonParam(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace klaxon::audit
