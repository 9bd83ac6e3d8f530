#include "common/crypto/personal_data.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"

namespace klaxon::crypto {
namespace {

using testing::FlipBit;
using testing::KeyringDocument;

const Fields kPlaintext = {{"recipient_ciphertext", "+14155550100"},
                           {"text_ciphertext", "disk full on db-1"}};

class PersonalDataTest : public ::testing::Test {
 protected:
  LocalKeyring keyring_ = *LocalKeyring::Parse(KeyringDocument(1, {1}));
  PersonalData personal_{keyring_};
};

TEST_F(PersonalDataTest, OpensWhatItSealed) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->owner, "alerts/a1");
  EXPECT_EQ(sealed->wrapped_key.kek_version, 1u);
  for (const auto& [column, sealed_value] : sealed->ciphertext) {
    EXPECT_EQ(sealed_value.find(kPlaintext.at(column)), std::string::npos) << column;
  }

  absl::StatusOr<Fields> opened =
      personal_.Open("alerts", "a1", sealed->wrapped_key, sealed->ciphertext);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, kPlaintext);
}

TEST_F(PersonalDataTest, GivesEachRecordAFreshKeyAndNonce) {
  absl::StatusOr<SealedRecord> first = personal_.Seal("alerts", "a1", kPlaintext);
  absl::StatusOr<SealedRecord> second = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->wrapped_key.sealed, second->wrapped_key.sealed);
  EXPECT_NE(first->ciphertext, second->ciphertext);
}

// Each byte of a sealed field (nonce, ciphertext, tag) is covered by the tag.
TEST_F(PersonalDataTest, RefusesAFieldWithAnyBitFlipped) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok());
  const std::string& text = sealed->ciphertext.at("text_ciphertext");
  for (size_t i = 0; i < text.size(); ++i) {
    Fields tampered = sealed->ciphertext;
    tampered["text_ciphertext"] = FlipBit(text, i);
    absl::StatusOr<Fields> opened = personal_.Open("alerts", "a1", sealed->wrapped_key, tampered);
    ASSERT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
  Fields tampered = sealed->ciphertext;
  tampered["text_ciphertext"] = FlipBit(text, text.size() - 1);  // the tag's last byte
  absl::StatusOr<Fields> opened = personal_.Open("alerts", "a1", sealed->wrapped_key, tampered);
  EXPECT_NE(opened.status().message().find("alerts.text_ciphertext of a1"), std::string::npos)
      << opened.status();
}

TEST_F(PersonalDataTest, RefusesAWrappedKeyWithABitFlipped) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok());
  WrappedKey tampered = sealed->wrapped_key;
  tampered.sealed = FlipBit(tampered.sealed, tampered.sealed.size() / 2);
  absl::StatusOr<Fields> opened = personal_.Open("alerts", "a1", tampered, sealed->ciphertext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(opened.status().message().find("data key of alerts/a1"), std::string::npos)
      << opened.status();
}

TEST_F(PersonalDataTest, RefusesARecordMovedToAnotherRow) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok());
  absl::StatusOr<Fields> opened =
      personal_.Open("alerts", "a2", sealed->wrapped_key, sealed->ciphertext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PersonalDataTest, RefusesAFieldMovedToAnotherColumn) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok());
  Fields swapped = {{"recipient_ciphertext", sealed->ciphertext.at("text_ciphertext")}};
  absl::StatusOr<Fields> opened = personal_.Open("alerts", "a1", sealed->wrapped_key, swapped);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(PersonalDataTest, NeedsTheKeyVersionTheDataKeyIsWrappedUnder) {
  absl::StatusOr<SealedRecord> sealed = personal_.Seal("alerts", "a1", kPlaintext);
  ASSERT_TRUE(sealed.ok());
  LocalKeyring newer = *LocalKeyring::Parse(KeyringDocument(2, {2}));
  PersonalData without_version_1(newer);
  absl::StatusOr<Fields> opened =
      without_version_1.Open("alerts", "a1", sealed->wrapped_key, sealed->ciphertext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
}

}  // namespace
}  // namespace klaxon::crypto
