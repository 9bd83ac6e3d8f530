#include "services/ingress/verification/region_permissions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress::verification {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUs[] = "+14155552671";
constexpr char kGb[] = "+442071838750";

TEST(RegionPermissionsTest, WithoutEntriesEveryRegionIsAllowed) {
  const RegionPermissions permissions = *RegionPermissions::Parse("");
  EXPECT_TRUE(permissions.Check("billing", kGb).ok());
}

TEST(RegionPermissionsTest, ACallersOwnListWinsOverTheDefault) {
  const RegionPermissions permissions = *RegionPermissions::Parse("*=US+GB, billing=US");
  EXPECT_TRUE(permissions.Check("pager", kGb).ok());
  EXPECT_TRUE(permissions.Check("billing", kUs).ok());
  const absl::Status denied = permissions.Check("billing", kGb);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), AllOf(HasSubstr("billing"), HasSubstr("GB"),
                                      HasSubstr("allows it US"), Not(HasSubstr("2071838750"))));
}

TEST(RegionPermissionsTest, ACallerNotListedWithoutADefaultIsNotLimited) {
  const RegionPermissions permissions = *RegionPermissions::Parse("billing=US");
  EXPECT_TRUE(permissions.Check("pager", kGb).ok());
}

TEST(RegionPermissionsTest, MalformedEntriesAreNamed) {
  for (const char* text : {"billing=us", "billing=USA", "=US", "billing", "a=US,a=GB"}) {
    const absl::StatusOr<RegionPermissions> parsed = RegionPermissions::Parse(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_THAT(RegionPermissions::Parse("billing=us").status().message(), HasSubstr("\"us\""));
  EXPECT_THAT(RegionPermissions::Parse("pager=US, billing=").status().message(),
              HasSubstr("KLAXON_VERIFY_REGIONS: entry \"billing=\" names no region"));
}

}  // namespace
}  // namespace klaxon::ingress::verification
