#include "common/twilio/resource_status.h"

#include <gtest/gtest.h>

#include <string>

namespace klaxon::twilio {
namespace {

TEST(IsFinalStatusTest, FinalMessageStatuses) {
  for (const std::string status : {"delivered", "undelivered", "failed", "read", "canceled"}) {
    EXPECT_TRUE(IsFinalStatus(Resource::kMessage, status)) << status;
  }
}

TEST(IsFinalStatusTest, MessageOnItsWayIsNotFinal) {
  for (const std::string status : {"queued", "accepted", "scheduled", "sending", "sent", ""}) {
    EXPECT_FALSE(IsFinalStatus(Resource::kMessage, status)) << status;
  }
}

TEST(IsFinalStatusTest, FinalCallStatuses) {
  for (const std::string status : {"completed", "busy", "no-answer", "failed", "canceled"}) {
    EXPECT_TRUE(IsFinalStatus(Resource::kCall, status)) << status;
  }
}

TEST(IsFinalStatusTest, CallInProgressIsNotFinal) {
  for (const std::string status : {"queued", "initiated", "ringing", "in-progress"}) {
    EXPECT_FALSE(IsFinalStatus(Resource::kCall, status)) << status;
  }
}

TEST(IsFinalStatusTest, WordsAreNotSharedAcrossResources) {
  EXPECT_FALSE(IsFinalStatus(Resource::kMessage, "completed"));
  EXPECT_FALSE(IsFinalStatus(Resource::kCall, "delivered"));
}

}  // namespace
}  // namespace klaxon::twilio
