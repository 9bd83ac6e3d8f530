#include "common/limits/priority_exemption.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace klaxon::limits {

absl::StatusOr<PriorityExemption> PriorityExemption::Parse(std::string_view word) {
  if (word == "none") return None();
  if (word == "low") return From(types::v1::PRIORITY_LOW);
  if (word == "normal") return From(types::v1::PRIORITY_NORMAL);
  if (word == "high") return From(types::v1::PRIORITY_HIGH);
  if (word == "critical") return From(types::v1::PRIORITY_CRITICAL);
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", std::string(word), "\" is not a priority: use low, normal, high, critical or none"));
}

}  // namespace klaxon::limits
