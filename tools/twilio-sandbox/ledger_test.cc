#include "tools/twilio-sandbox/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace klaxon::sandbox {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

LedgerEntry Message(const std::string& from, absl::Duration after) {
  return {.kind = ResourceKind::kMessage, .from = from, .received_at = kStart + after};
}

TEST(PacingBySenderTest, CountsEachSenderAndFindsItsFullestWindow) {
  std::vector<LedgerEntry> entries = {
      Message("+1A", absl::Milliseconds(0)),    Message("+1A", absl::Milliseconds(500)),
      Message("+1A", absl::Milliseconds(1400)), Message("+1A", absl::Milliseconds(1450)),
      Message("+1B", absl::Milliseconds(100)),  Message("+1A", absl::Milliseconds(1999)),
  };
  // Shuffled: the ledger's order is the order requests arrived, not by sender.
  std::shuffle(entries.begin(), entries.end(), std::mt19937(7));
  const std::vector<SenderPacing> pacing =
      PacingBySender(entries, absl::Seconds(1), absl::InfinitePast(), absl::InfiniteFuture());
  EXPECT_EQ(pacing, (std::vector<SenderPacing>{
                        {"+1A", 5, 3, kStart + absl::Milliseconds(500)},
                        {"+1B", 1, 1, kStart + absl::Milliseconds(100)},
                    }));
}

TEST(PacingBySenderTest, AWindowIsHalfOpen) {
  const std::vector<SenderPacing> pacing =
      PacingBySender({Message("+1A", absl::ZeroDuration()), Message("+1A", absl::Seconds(1))},
                     absl::Seconds(1), absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(pacing.size(), 1u);
  EXPECT_EQ(pacing[0].busiest, 1);
}

TEST(PacingBySenderTest, KeepsToTheIntervalAndToMessages) {
  std::vector<LedgerEntry> entries = {Message("+1A", absl::Seconds(1)),
                                      Message("+1A", absl::Seconds(2)),
                                      Message("+1A", absl::Seconds(3))};
  LedgerEntry call = Message("+1A", absl::Seconds(2));
  call.kind = ResourceKind::kCall;
  entries.push_back(call);
  const std::vector<SenderPacing> pacing = PacingBySender(
      entries, absl::Seconds(5), kStart + absl::Seconds(1), kStart + absl::Seconds(3));
  ASSERT_EQ(pacing.size(), 1u);
  EXPECT_EQ(pacing[0].messages, 2);
  EXPECT_EQ(pacing[0].busiest, 2);
}

}  // namespace
}  // namespace klaxon::sandbox
