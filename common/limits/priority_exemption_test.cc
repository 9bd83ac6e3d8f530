#include "common/limits/priority_exemption.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::limits {
namespace {

using types::v1::PRIORITY_CRITICAL;
using types::v1::PRIORITY_HIGH;
using types::v1::PRIORITY_LOW;
using types::v1::PRIORITY_NORMAL;
using types::v1::PRIORITY_UNSPECIFIED;

TEST(PriorityExemptionTest, ThePriorityNamedAndThoseAboveItPass) {
  const PriorityExemption high = PriorityExemption::Parse("high").value();
  EXPECT_TRUE(high.Exempts(PRIORITY_CRITICAL));
  EXPECT_TRUE(high.Exempts(PRIORITY_HIGH));
  EXPECT_FALSE(high.Exempts(PRIORITY_NORMAL));
  EXPECT_FALSE(high.Exempts(PRIORITY_LOW));
}

TEST(PriorityExemptionTest, AnUnsetPriorityIsNormal) {
  EXPECT_TRUE(PriorityExemption::Parse("normal")->Exempts(PRIORITY_UNSPECIFIED));
  EXPECT_FALSE(PriorityExemption::Parse("high")->Exempts(PRIORITY_UNSPECIFIED));
}

TEST(PriorityExemptionTest, NoneLetsNothingPass) {
  EXPECT_FALSE(PriorityExemption::Parse("none")->Exempts(PRIORITY_CRITICAL));
  EXPECT_FALSE(PriorityExemption::None().Exempts(PRIORITY_CRITICAL));
}

TEST(PriorityExemptionTest, AnotherWordIsNamed) {
  EXPECT_THAT(std::string(PriorityExemption::Parse("urgent").status().message()),
              ::testing::HasSubstr("\"urgent\" is not a priority"));
}

}  // namespace
}  // namespace klaxon::limits
