#include "common/ids/id_generator.h"

#include <gtest/gtest.h>

#include <set>

#include "common/ids/uuid.h"
#include "common/timing/fake_clock.h"

namespace klaxon::ids {
namespace {

TEST(UuidV7GeneratorTest, MintsDistinctUuidV7sStampedByTheClock) {
  timing::FakeClock clock(absl::FromUnixMillis(1'700'000'000'123));
  UuidV7Generator generator(clock);
  std::set<std::string> minted;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = generator.Next();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(UuidV7Time(id).value(), clock.Now()) << id;
    minted.insert(id);
  }
  EXPECT_EQ(minted.size(), 1000u);
}

TEST(CountingIdGeneratorTest, CountsFromOneAfterItsPrefix) {
  CountingIdGenerator generator("alert-");
  EXPECT_EQ(generator.Next(), "alert-1");
  EXPECT_EQ(generator.Next(), "alert-2");
}

}  // namespace
}  // namespace klaxon::ids
