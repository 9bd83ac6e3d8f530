#include "common/crypto/envelope.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/aead.h"
#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"

namespace klaxon::crypto {
namespace {

constexpr FieldBinding kRecipient{.table = "alerts", .record = "a1", .column = "recipient"};

TEST(EnvelopeTest, SealsFieldsUnderARecordsDataKey) {
  LocalKeyring keyring = testing::KeyringOf(1, {1});
  Envelope envelope(keyring);
  absl::StatusOr<NewDataKey> created = envelope.NewKey("alerts/a1");
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string sealed = *created->key.Seal("+14155552671", kRecipient);

  absl::StatusOr<DataKey> reopened = envelope.OpenKey(created->wrapped, "alerts/a1");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(*reopened->Open(sealed, kRecipient), "+14155552671");
}

TEST(EnvelopeTest, GivesEveryRecordItsOwnDataKey) {
  LocalKeyring keyring = testing::KeyringOf(1, {1});
  Envelope envelope(keyring);
  NewDataKey first = *envelope.NewKey("alerts/a1");
  NewDataKey second = *envelope.NewKey("alerts/a1");
  const std::string sealed = *first.key.Seal("text", kRecipient);
  EXPECT_EQ(second.key.Open(sealed, kRecipient).status().code(), absl::StatusCode::kDataLoss);
}

TEST(EnvelopeTest, RejectsAFieldMovedToAnotherRecordOrColumn) {
  LocalKeyring keyring = testing::KeyringOf(1, {1});
  Envelope envelope(keyring);
  NewDataKey created = *envelope.NewKey("alerts/a1");
  const std::string sealed = *created.key.Seal("+14155552671", kRecipient);

  absl::StatusOr<std::string> moved_row =
      created.key.Open(sealed, {.table = "alerts", .record = "a2", .column = "recipient"});
  EXPECT_EQ(moved_row.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(moved_row.status().message().find("alerts.recipient of a2"), std::string::npos);
  EXPECT_EQ(created.key.Open(sealed, {.table = "alerts", .record = "a1", .column = "text"})
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(EnvelopeTest, KeepsRecordAndColumnApartInTheAssociatedData) {
  LocalKeyring keyring = testing::KeyringOf(1, {1});
  Envelope envelope(keyring);
  NewDataKey created = *envelope.NewKey("r");
  const std::string sealed = *created.key.Seal("x", {.table = "t", .record = "a/b", .column = "c"});
  EXPECT_EQ(
      created.key.Open(sealed, {.table = "t", .record = "a", .column = "b/c"}).status().code(),
      absl::StatusCode::kDataLoss);
}

TEST(EnvelopeTest, RewrapsUnderTheNewVersionWithoutTouchingTheData) {
  LocalKeyring old_keyring = testing::KeyringOf(1, {1});
  Envelope old_envelope(old_keyring);
  NewDataKey created = *old_envelope.NewKey("alerts/a1");
  const std::string sealed = *created.key.Seal("disk full on db-7", kRecipient);

  LocalKeyring rotating = testing::KeyringOf(2, {1, 2});
  Envelope rotating_envelope(rotating);
  absl::StatusOr<WrappedKey> rewrapped = rotating_envelope.Rewrap(created.wrapped, "alerts/a1");
  ASSERT_TRUE(rewrapped.ok()) << rewrapped.status();
  EXPECT_EQ(rewrapped->kek_version, 2u);

  // Version 1 is no longer needed: a keyring without it still reads the record.
  LocalKeyring rotated = testing::KeyringOf(2, {2});
  Envelope rotated_envelope(rotated);
  absl::StatusOr<DataKey> key = rotated_envelope.OpenKey(*rewrapped, "alerts/a1");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key->Open(sealed, kRecipient), "disk full on db-7");
}

TEST(EnvelopeTest, LeavesAKeyAlreadyUnderTheCurrentVersionAsItIs) {
  LocalKeyring keyring = testing::KeyringOf(1, {1});
  Envelope envelope(keyring);
  NewDataKey created = *envelope.NewKey("alerts/a1");
  EXPECT_EQ(*envelope.Rewrap(created.wrapped, "alerts/a1"), created.wrapped);
}

TEST(EnvelopeTest, RefusesToRewrapATamperedKey) {
  LocalKeyring old_keyring = testing::KeyringOf(1, {1});
  Envelope old_envelope(old_keyring);
  WrappedKey wrapped = old_envelope.NewKey("alerts/a1")->wrapped;
  wrapped.sealed.back() = static_cast<char>(wrapped.sealed.back() ^ 1);
  LocalKeyring rotating = testing::KeyringOf(2, {1, 2});
  Envelope rotating_envelope(rotating);
  EXPECT_EQ(rotating_envelope.Rewrap(wrapped, "alerts/a1").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace klaxon::crypto
