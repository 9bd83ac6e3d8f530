#include "services/ingress/verification/region_permissions.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/phone/phone.h"

namespace klaxon::ingress::verification {
namespace {

constexpr std::string_view kEveryCaller = "*";

bool IsRegionCode(absl::string_view region) {
  return region.size() == 2 && absl::ascii_isupper(static_cast<unsigned char>(region[0])) &&
         absl::ascii_isupper(static_cast<unsigned char>(region[1]));
}

}  // namespace

absl::StatusOr<RegionPermissions> RegionPermissions::Parse(std::string_view text) {
  std::map<std::string, std::set<std::string>, std::less<>> allowed;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(entry, '=');
    std::set<std::string> regions;
    for (absl::string_view region : absl::StrSplit(parts.second, '+')) {
      if (!IsRegionCode(region)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "verification regions entry \"", entry, "\" names \"", region,
            "\", not an ISO 3166 region in capitals; write <caller>=<REGION>[+<REGION>...], e.g. "
            "*=US+CA"));
      }
      regions.insert(std::string(region));
    }
    if (regions.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("verification regions entry \"", entry,
                       "\" names no region; write "
                       "<caller>=<REGION>[+<REGION>...], e.g. *=US+CA"));
    }
    if (parts.first.empty() ||
        !allowed.emplace(std::string(parts.first), std::move(regions)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("verification regions entry \"", entry, "\" has no caller or repeats one"));
    }
  }
  return RegionPermissions(std::move(allowed));
}

absl::Status RegionPermissions::Check(std::string_view caller, std::string_view e164) const {
  auto regions = allowed_.find(caller);
  if (regions == allowed_.end()) regions = allowed_.find(kEveryCaller);
  if (regions == allowed_.end()) return absl::OkStatus();
  const std::optional<std::string> region = phone::RegionCode(e164);
  if (region.has_value() && regions->second.contains(*region)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", std::string(caller), " may not verify numbers in ",
                   region.value_or("an unknown region"), "; KLAXON_VERIFY_REGIONS allows it ",
                   absl::StrJoin(regions->second, ", ")));
}

}  // namespace klaxon::ingress::verification
