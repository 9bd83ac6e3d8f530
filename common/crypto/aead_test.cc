#include "common/crypto/aead.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/test_keyring.h"

namespace klaxon::crypto {
namespace {

using testing::FlipBit;

const std::string kKey(kKeyBytes, 'k');

TEST(AeadTest, OpensWhatItSealed) {
  absl::StatusOr<std::string> sealed = Seal(kKey, "+14155552671", "alerts/1/recipient");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kNonceBytes + 12 + kTagBytes);
  EXPECT_EQ(sealed->find("+14155552671"), std::string::npos);
  EXPECT_EQ(*Open(kKey, *sealed, "alerts/1/recipient"), "+14155552671");
}

TEST(AeadTest, UsesAFreshNonceForEverySeal) {
  EXPECT_NE(*Seal(kKey, "same text", "ad"), *Seal(kKey, "same text", "ad"));
}

TEST(AeadTest, SealsAnEmptyPlaintext) {
  absl::StatusOr<std::string> sealed = Seal(kKey, "", "ad");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*Open(kKey, *sealed, "ad"), "");
}

TEST(AeadTest, RejectsEveryFlippedBitOfNonceCiphertextAndTag) {
  const std::string sealed = *Seal(kKey, "page the on-call", "ad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    absl::StatusOr<std::string> opened = Open(kKey, FlipBit(sealed, i), "ad");
    ASSERT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
}

TEST(AeadTest, RejectsOtherAssociatedData) {
  const std::string sealed = *Seal(kKey, "text", "alerts/1/text");
  EXPECT_EQ(Open(kKey, sealed, "alerts/2/text").status().code(), absl::StatusCode::kDataLoss);
}

TEST(AeadTest, RejectsAnotherKey) {
  const std::string sealed = *Seal(kKey, "text", "ad");
  EXPECT_EQ(Open(std::string(kKeyBytes, 'x'), sealed, "ad").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(AeadTest, RejectsATruncatedValue) {
  const std::string sealed = *Seal(kKey, "text", "ad");
  EXPECT_EQ(Open(kKey, sealed.substr(0, kNonceBytes + kTagBytes - 1), "ad").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Open(kKey, sealed.substr(0, sealed.size() - 1), "ad").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(AeadTest, RejectsAKeyOfTheWrongSize) {
  EXPECT_EQ(Seal("short", "text", "ad").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Open("short", std::string(40, 'x'), "ad").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::crypto
