#pragma once
// Debian's abseil is built with its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW is 0),
// so a std::string_view must be converted to reach abseil's string functions, and back.

#include <string_view>

#include "absl/strings/string_view.h"

namespace klaxon::abseil {

inline absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

inline std::string_view StdView(absl::string_view text) { return {text.data(), text.size()}; }

}  // namespace klaxon::abseil
