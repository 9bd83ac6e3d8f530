#pragma once
// Geo permissions: the destination regions each caller may verify numbers in, so a script cannot
// pump codes to premium-rate ranges abroad. Checked before anything is stored or sent.

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace klaxon::ingress::verification {

class RegionPermissions {
 public:
  // "*=US+CA+GB,billing=US": per caller the ISO 3166 regions allowed, "*" for callers not
  // listed. Empty text allows every region to every caller. kInvalidArgument names
  // KLAXON_VERIFY_REGIONS and the entry that is not "<caller>=<REGION>[+<REGION>...]".
  static absl::StatusOr<RegionPermissions> Parse(std::string_view text);

  RegionPermissions() = default;

  // OK when `caller` may verify `e164`; kPermissionDenied naming the region and the allowed ones
  // otherwise (never the number).
  absl::Status Check(std::string_view caller, std::string_view e164) const;

 private:
  explicit RegionPermissions(std::map<std::string, std::set<std::string>, std::less<>> allowed)
      : allowed_(std::move(allowed)) {}

  std::map<std::string, std::set<std::string>, std::less<>> allowed_;
};

}  // namespace klaxon::ingress::verification
