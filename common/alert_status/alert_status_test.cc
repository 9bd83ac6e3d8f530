#include "common/alert_status/alert_status.h"

#include <gtest/gtest.h>

namespace klaxon::alert_status {
namespace {

using namespace types::v1;  // NOLINT: the enum's values read best unqualified here

TEST(AlertStatusTest, RanksFollowTheLifeOfAnAlert) {
  EXPECT_EQ(Rank(ALERT_STATUS_UNSPECIFIED), 0);
  EXPECT_EQ(Rank(ALERT_STATUS_QUEUED), 1);
  EXPECT_EQ(Rank(ALERT_STATUS_WAITING), 1);
  EXPECT_EQ(Rank(ALERT_STATUS_SENT), 2);
  for (AlertStatus final_status :
       {ALERT_STATUS_DELIVERED, ALERT_STATUS_UNDELIVERED, ALERT_STATUS_FAILED,
        ALERT_STATUS_SUPPRESSED, ALERT_STATUS_CANCELLED}) {
    EXPECT_EQ(Rank(final_status), 3) << AlertStatus_Name(final_status);
  }
  EXPECT_EQ(Rank(ALERT_STATUS_ACKNOWLEDGED), 4);
  EXPECT_EQ(Rank(static_cast<AlertStatus>(99)), 0);
}

TEST(AlertStatusTest, RanksThreeAndFourAreFinal) {
  EXPECT_FALSE(IsFinal(ALERT_STATUS_UNSPECIFIED));
  EXPECT_FALSE(IsFinal(ALERT_STATUS_QUEUED));
  EXPECT_FALSE(IsFinal(ALERT_STATUS_WAITING));
  EXPECT_FALSE(IsFinal(ALERT_STATUS_SENT));
  EXPECT_TRUE(IsFinal(ALERT_STATUS_DELIVERED));
  EXPECT_TRUE(IsFinal(ALERT_STATUS_SUPPRESSED));
  EXPECT_TRUE(IsFinal(ALERT_STATUS_CANCELLED));
  EXPECT_TRUE(IsFinal(ALERT_STATUS_ACKNOWLEDGED));
}

}  // namespace
}  // namespace klaxon::alert_status
