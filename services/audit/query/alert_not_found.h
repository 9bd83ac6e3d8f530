#pragma once
// What every query answers for an alert the caller may not see or that does not exist.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::audit {

// NOT_FOUND naming `alert_id`: the same words for another caller's alert and for none at all, so
// a caller cannot tell the two apart.
inline absl::Status AlertNotFound(std::string_view alert_id) {
  return absl::NotFoundError(absl::StrCat("alert ", std::string(alert_id), " not found"));
}

}  // namespace klaxon::audit
