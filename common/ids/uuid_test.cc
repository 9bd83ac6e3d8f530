#include "common/ids/uuid.h"

#include <random>

#include "absl/random/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ids {
namespace {

using ::testing::MatchesRegex;

// A generator whose every draw is `bits`, so the random part of a UUID is known.
struct ConstantBits {
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return bits; }
  result_type bits;
};

// 2024-01-02T03:04:05.678Z
const absl::Time kNow = absl::FromUnixMillis(1704164645678);

TEST(NewUuidV7Test, HasCanonicalLowercaseForm) {
  std::mt19937_64 gen(1);
  EXPECT_THAT(NewUuidV7(kNow, gen),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
}

TEST(NewUuidV7Test, StartsWithTheUnixMillisecondsInHex) {
  std::mt19937_64 gen(1);
  // 1704164645678 = 0x018cc820db2e
  const std::string uuid = NewUuidV7(kNow, gen);
  EXPECT_EQ(uuid.substr(0, 13), "018cc820-db2e");
}

TEST(NewUuidV7Test, LaysOutRandomBitsAfterVersionAndVariant) {
  ConstantBits gen{.bits = ~uint64_t{0}};
  // rand_a = 0 (whole millisecond); rand_b = all ones below the variant bits "10".
  EXPECT_EQ(NewUuidV7(kNow, gen), "018cc820-db2e-7000-bfff-ffffffffffff");
}

TEST(NewUuidV7Test, CarriesTheSubMillisecondFractionInRandA) {
  ConstantBits gen{.bits = 0};
  // Half a millisecond = 2048/4096 = 0x800.
  EXPECT_EQ(NewUuidV7(kNow + absl::Microseconds(500), gen), "018cc820-db2e-7800-8000-000000000000");
}

TEST(NewUuidV7Test, SortsByTimeAcrossMilliseconds) {
  absl::BitGen gen;
  std::string previous = NewUuidV7(kNow, gen);
  for (int step = 1; step < 1000; ++step) {
    const std::string next = NewUuidV7(kNow + absl::Microseconds(step * 250), gen);
    EXPECT_LT(previous, next) << "step " << step;
    previous = next;
  }
}

TEST(NewUuidV7Test, DiffersForTheSameInstant) {
  absl::BitGen gen;
  EXPECT_NE(NewUuidV7(kNow, gen), NewUuidV7(kNow, gen));
}

TEST(NewUuidV7Test, ClampsTimesBeforeTheEpoch) {
  ConstantBits gen{.bits = 0};
  EXPECT_EQ(NewUuidV7(absl::UnixEpoch() - absl::Seconds(1), gen),
            "00000000-0000-7000-8000-000000000000");
}

TEST(IsUuidTest, AcceptsCanonicalFormOfAnyVersion) {
  EXPECT_TRUE(IsUuid("018cc820-db2e-7000-bfff-ffffffffffff"));
  EXPECT_TRUE(IsUuid("123e4567-e89b-42d3-a456-426614174000"));
}

TEST(IsUuidTest, RejectsOtherForms) {
  for (const char* text :
       {"", "018CC7DC-4A2E-7000-BFFF-FFFFFFFFFFFF", "018cc7dc4a2e7000bfffffffffffffff",
        "{018cc820-db2e-7000-bfff-ffffffffffff}", "018cc820-db2e-7000-bfff-fffffffffff",
        "018cc820-db2e-7000-bfff_ffffffffffff", "018cc820-db2e-7000-bfff-fffffffffffg"}) {
    EXPECT_FALSE(IsUuid(text)) << text;
  }
}

TEST(UuidV7TimeTest, RoundTripsTheMillisecond) {
  absl::BitGen gen;
  const absl::StatusOr<absl::Time> time =
      UuidV7Time(NewUuidV7(kNow + absl::Microseconds(999), gen));
  ASSERT_TRUE(time.ok()) << time.status();
  EXPECT_EQ(*time, kNow);
}

TEST(UuidV7TimeTest, RejectsOtherVersions) {
  EXPECT_EQ(UuidV7Time("123e4567-e89b-42d3-a456-426614174000").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(UuidV7TimeTest, RejectsWrongVariant) {
  EXPECT_EQ(UuidV7Time("018cc820-db2e-7000-7fff-ffffffffffff").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(UuidV7TimeTest, RejectsNonUuid) {
  EXPECT_EQ(UuidV7Time("not-a-uuid").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::ids
