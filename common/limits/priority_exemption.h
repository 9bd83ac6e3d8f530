#pragma once
// Which priorities a limit lets pass (quiet hours, per-recipient limits): those at or above a
// threshold an operator names. An unset priority is normal.

#include <string_view>

#include "absl/status/statusor.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::limits {

class PriorityExemption {
 public:
  // Priorities at or above `lowest` pass.
  static constexpr PriorityExemption From(types::v1::Priority lowest) {
    return PriorityExemption(static_cast<int>(lowest));
  }
  static constexpr PriorityExemption None() {
    return PriorityExemption(static_cast<int>(types::v1::Priority_MAX) + 1);
  }
  // "low", "normal", "high", "critical" (that priority and above pass) or "none" (nothing does);
  // kInvalidArgument naming the word otherwise.
  static absl::StatusOr<PriorityExemption> Parse(std::string_view word);

  bool Exempts(types::v1::Priority priority) const {
    const types::v1::Priority effective =
        priority == types::v1::PRIORITY_UNSPECIFIED ? types::v1::PRIORITY_NORMAL : priority;
    return static_cast<int>(effective) >= lowest_;
  }

 private:
  constexpr explicit PriorityExemption(int lowest) : lowest_(lowest) {}
  int lowest_;
};

}  // namespace klaxon::limits
