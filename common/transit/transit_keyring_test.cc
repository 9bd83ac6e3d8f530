#include "common/transit/transit_keyring.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/test_keyring.h"

namespace klaxon::transit {
namespace {

config::Reader ReaderOf(config::Environment variables) {
  return config::Reader(std::move(variables));
}

TEST(TransitKeyringTest, ReadsTheKeyringDocument) {
  config::Reader reader =
      ReaderOf({{"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(2, {1, 2})}});
  std::shared_ptr<crypto::LocalKeyring> keyring = ReadTransitKeyring(reader);
  ASSERT_NE(keyring, nullptr);
  EXPECT_EQ(keyring->CurrentVersion(), 2u);
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(TransitKeyringTest, IsRequired) {
  config::Reader reader = ReaderOf({});
  EXPECT_EQ(ReadTransitKeyring(reader), nullptr);
  const absl::Status finished = reader.Finish();
  EXPECT_FALSE(finished.ok());
  EXPECT_NE(finished.message().find("KLAXON_TRANSIT_KEYRING"), std::string::npos);
}

TEST(TransitKeyringTest, ABadDocumentIsAnErrorNamingTheVariableWithoutItsValue) {
  config::Reader reader = ReaderOf({{"KLAXON_TRANSIT_KEYRING", R"({"current": 1, "keys": {}})"}});
  EXPECT_EQ(ReadTransitKeyring(reader), nullptr);
  const absl::Status finished = reader.Finish();
  EXPECT_FALSE(finished.ok());
  EXPECT_NE(finished.message().find("KLAXON_TRANSIT_KEYRING"), std::string::npos);
}

}  // namespace
}  // namespace klaxon::transit
