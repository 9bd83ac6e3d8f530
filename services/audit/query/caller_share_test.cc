#include "services/audit/query/caller_share.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::audit {
namespace {

TEST(CallerShareTest, ACallerPastItsShareIsRefusedWhileOthersStillEnter) {
  CallerShare share(2);
  std::vector<std::shared_ptr<const void>> held;
  held.push_back(share.Enter("flood"));
  held.push_back(share.Enter("flood"));
  ASSERT_NE(held[0], nullptr);
  ASSERT_NE(held[1], nullptr);
  EXPECT_EQ(share.Enter("flood"), nullptr);
  EXPECT_NE(share.Enter("billing"), nullptr) << "another caller keeps its share";
  EXPECT_EQ(share.held("flood"), 2u);
}

TEST(CallerShareTest, APlaceIsGivenBackWhenItsLastCopyGoes) {
  CallerShare share(1);
  std::shared_ptr<const void> place = share.Enter("billing");
  std::shared_ptr<const void> copy = place;  // as a queued task keeps it
  place.reset();
  EXPECT_EQ(share.Enter("billing"), nullptr);
  copy.reset();
  EXPECT_EQ(share.held("billing"), 0u);
  EXPECT_NE(share.Enter("billing"), nullptr);
}

}  // namespace
}  // namespace klaxon::audit
