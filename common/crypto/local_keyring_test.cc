#include "common/crypto/local_keyring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/aead.h"

namespace klaxon::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string KeyOf(char fill) { return absl::Base64Escape(std::string(kKeyBytes, fill)); }

std::string Document(int current, const std::string& keys) {
  return absl::StrCat(R"({"current": )", current, R"(, "keys": {)", keys, "}}");
}

LocalKeyring Keyring(int current, const std::string& keys) {
  absl::StatusOr<LocalKeyring> keyring = LocalKeyring::Parse(Document(current, keys));
  EXPECT_TRUE(keyring.ok()) << keyring.status();
  return *std::move(keyring);
}

const std::string kDataKey(kKeyBytes, 'd');

TEST(LocalKeyringTest, WrapsUnderTheCurrentVersion) {
  LocalKeyring keyring =
      Keyring(2, absl::StrCat(R"("1": ")", KeyOf('a'), R"(", "2": ")", KeyOf('b'), R"(")"));
  absl::StatusOr<WrappedKey> wrapped = keyring.Wrap(kDataKey, "alerts/1");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_EQ(wrapped->kek_version, 2u);
  EXPECT_EQ(*keyring.Unwrap(*wrapped, "alerts/1"), kDataKey);
}

TEST(LocalKeyringTest, UnwrapsUnderAnOlderVersionItStillHolds) {
  LocalKeyring old_keyring = Keyring(1, absl::StrCat(R"("1": ")", KeyOf('a'), R"(")"));
  const WrappedKey wrapped = *old_keyring.Wrap(kDataKey, "alerts/1");
  LocalKeyring rotated =
      Keyring(2, absl::StrCat(R"("1": ")", KeyOf('a'), R"(", "2": ")", KeyOf('b'), R"(")"));
  EXPECT_EQ(*rotated.Unwrap(wrapped, "alerts/1"), kDataKey);
}

TEST(LocalKeyringTest, NamesAVersionItDoesNotHold) {
  LocalKeyring old_keyring = Keyring(1, absl::StrCat(R"("1": ")", KeyOf('a'), R"(")"));
  const WrappedKey wrapped = *old_keyring.Wrap(kDataKey, "alerts/1");
  LocalKeyring only_new = Keyring(2, absl::StrCat(R"("2": ")", KeyOf('b'), R"(")"));
  absl::StatusOr<std::string> unwrapped = only_new.Unwrap(wrapped, "alerts/1");
  EXPECT_EQ(unwrapped.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unwrapped.status().message(), HasSubstr("key version 1"));
}

TEST(LocalKeyringTest, RejectsAWrappedKeyMovedToAnotherRecord) {
  LocalKeyring keyring = Keyring(1, absl::StrCat(R"("1": ")", KeyOf('a'), R"(")"));
  const WrappedKey wrapped = *keyring.Wrap(kDataKey, "alerts/1");
  EXPECT_EQ(keyring.Unwrap(wrapped, "alerts/2").status().code(), absl::StatusCode::kDataLoss);
}

TEST(LocalKeyringTest, RejectsEveryFlippedBitOfAWrappedKey) {
  LocalKeyring keyring = Keyring(1, absl::StrCat(R"("1": ")", KeyOf('a'), R"(")"));
  const WrappedKey wrapped = *keyring.Wrap(kDataKey, "alerts/1");
  for (size_t i = 0; i < wrapped.sealed.size(); ++i) {
    WrappedKey tampered = wrapped;
    tampered.sealed[i] = static_cast<char>(tampered.sealed[i] ^ 0x80);
    ASSERT_EQ(keyring.Unwrap(tampered, "alerts/1").status().code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
}

TEST(LocalKeyringTest, RejectsAWrappedKeyRelabelledWithAnotherVersion) {
  // Both versions hold the same key bytes: only the authenticated version label differs.
  LocalKeyring keyring =
      Keyring(1, absl::StrCat(R"("1": ")", KeyOf('a'), R"(", "2": ")", KeyOf('a'), R"(")"));
  WrappedKey wrapped = *keyring.Wrap(kDataKey, "alerts/1");
  wrapped.kek_version = 2;
  EXPECT_EQ(keyring.Unwrap(wrapped, "alerts/1").status().code(), absl::StatusCode::kDataLoss);
}

struct BadKeyring {
  std::string document;
  std::string complaint;
};

class LocalKeyringParseTest : public ::testing::TestWithParam<BadKeyring> {};

TEST_P(LocalKeyringParseTest, NamesWhatIsWrongWithoutQuotingKeys) {
  absl::StatusOr<LocalKeyring> keyring = LocalKeyring::Parse(GetParam().document);
  ASSERT_EQ(keyring.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keyring.status().message(), HasSubstr(GetParam().complaint));
  EXPECT_THAT(keyring.status().message(), Not(HasSubstr(KeyOf('a'))));
}

INSTANTIATE_TEST_SUITE_P(
    Documents, LocalKeyringParseTest,
    ::testing::Values(
        BadKeyring{"not json", "not a JSON object"},
        BadKeyring{R"({"keys": {"1": "x"}})", "\"current\""},
        BadKeyring{Document(1, ""), "\"keys\""},
        BadKeyring{Document(1, R"("one": "x")"), "\"one\" is not a positive integer"},
        BadKeyring{Document(1, R"("1": "%%%")"), "key version 1 is not the base64 of 32 bytes"},
        BadKeyring{Document(1, absl::StrCat(R"("1": ")", absl::Base64Escape("short"), R"(")")),
                   "key version 1 is not the base64 of 32 bytes"},
        BadKeyring{Document(3, absl::StrCat(R"("1": ")", KeyOf('a'), R"(")")),
                   "current version 3 is not in"}));

}  // namespace
}  // namespace klaxon::crypto
