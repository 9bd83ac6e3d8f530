#include "services/ingress/verification/per_caller.h"

#include <gtest/gtest.h>

namespace klaxon::ingress::verification {
namespace {

TEST(ForCallerTest, ACallersOwnEntryWinsOverTheDefault) {
  const std::map<std::string, int> per_caller = {{"billing", 1}, {"*", 2}};
  ASSERT_NE(ForCaller(per_caller, "billing"), nullptr);
  EXPECT_EQ(*ForCaller(per_caller, "billing"), 1);
}

TEST(ForCallerTest, ACallerNotListedGetsTheDefault) {
  const std::map<std::string, int, std::less<>> per_caller = {{"billing", 1}, {"*", 2}};
  ASSERT_NE(ForCaller(per_caller, "pager"), nullptr);
  EXPECT_EQ(*ForCaller(per_caller, "pager"), 2);
}

TEST(ForCallerTest, ACallerNotListedWithoutADefaultHasNoValue) {
  const std::map<std::string, int> per_caller = {{"billing", 1}};
  EXPECT_EQ(ForCaller(per_caller, "pager"), nullptr);
}

}  // namespace
}  // namespace klaxon::ingress::verification
