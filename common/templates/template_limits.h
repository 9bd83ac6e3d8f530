#pragma once
// What a message template's parameters may be (docs/adr/0030): one definition for audit, which
// refuses a template text with more placeholders or longer names and a rendering with more or
// larger parameters, and ingress, which refuses such a request before asking audit, so no stored
// template asks for what no request may give.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::templates {

inline constexpr size_t kMaxParameters = 32;     // distinct placeholders in one text
inline constexpr size_t kMaxParameterName = 64;  // bytes of a placeholder's name
// Bytes of a request's parameter values together: they fill placeholders of a text of at most
// 1,600 characters (twilio::kMaxBodyCharacters) of up to 4 bytes each, so no rendering that fits
// is refused.
inline constexpr size_t kMaxParameterBytes = 1'600 * 4;

// OK when `parameters` (name to value, any map) are within the limits above; else
// kInvalidArgument naming template.parameters.
template <typename ParameterMap>
absl::Status CheckParameters(const ParameterMap& parameters) {
  if (parameters.size() > kMaxParameters) {
    return absl::InvalidArgumentError(absl::StrCat("template.parameters: has ", parameters.size(),
                                                   " entries, the limit is ", kMaxParameters));
  }
  size_t value_bytes = 0;
  for (const auto& [name, value] : parameters) {
    if (name.empty() || name.size() > kMaxParameterName) {
      return absl::InvalidArgumentError(
          absl::StrCat("template.parameters: names must be 1 to ", kMaxParameterName, " bytes"));
    }
    value_bytes += value.size();
  }
  if (value_bytes > kMaxParameterBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "template.parameters: the values add up to ", value_bytes, " bytes, the limit is ",
        kMaxParameterBytes, " (1600 characters, the longest text, of up to 4 bytes each)"));
  }
  return absl::OkStatus();
}

}  // namespace klaxon::templates
