#pragma once
// What a message template's parameters may be (docs/adr/0030): one definition for audit, which
// refuses a template text with more placeholders or longer names, and ingress, which refuses a
// request with more parameters or longer names, so no stored template asks for what no request
// may give.

#include <cstddef>

namespace klaxon::templates {

inline constexpr size_t kMaxParameters = 32;     // distinct placeholders in one text
inline constexpr size_t kMaxParameterName = 64;  // bytes of a placeholder's name

}  // namespace klaxon::templates
