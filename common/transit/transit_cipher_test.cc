#include "common/transit/transit_cipher.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"

namespace klaxon::transit {
namespace {

using crypto::LocalKeyring;
using crypto::testing::KeyringDocument;

constexpr char kRecipientNumber[] = "+14155550100";
constexpr char kAlertText[] = "disk full on db-1";

events::v1::AlertRequested Request(std::string alert_id) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(std::move(alert_id));
  return request;
}

class TransitCipherTest : public ::testing::Test {
 protected:
  events::v1::AlertRequested Sealed(std::string alert_id) {
    events::v1::AlertRequested request = Request(std::move(alert_id));
    EXPECT_TRUE(
        cipher_.SealAlert({.recipient = kRecipientNumber, .text = kAlertText}, request).ok());
    return request;
  }

  LocalKeyring keyring_ = *LocalKeyring::Parse(KeyringDocument(1, {1}));
  TransitCipher cipher_{keyring_};
};

TEST_F(TransitCipherTest, AnAlertOpensToWhatWasSealedAndItsBytesHoldNoPlaintext) {
  const events::v1::AlertRequested request = Sealed("a1");
  const std::string wire = request.SerializeAsString();
  EXPECT_EQ(wire.find(kRecipientNumber), std::string::npos);
  EXPECT_EQ(wire.find("4155550100"), std::string::npos);
  EXPECT_EQ(wire.find(kAlertText), std::string::npos);
  EXPECT_EQ(request.personal().key_version(), 1u);

  events::v1::AlertRequested parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  absl::StatusOr<AlertPersonalData> opened = cipher_.OpenAlert(parsed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->recipient, kRecipientNumber);
  EXPECT_EQ(opened->text, kAlertText);
}

TEST_F(TransitCipherTest, SealedFieldsCopiedToAnotherAlertDoNotOpen) {
  events::v1::AlertRequested other = Request("a2");
  *other.mutable_personal() = Sealed("a1").personal();
  EXPECT_EQ(cipher_.OpenAlert(other).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TransitCipherTest, TheRecipientSwappedIntoTheTextFieldDoesNotOpen) {
  events::v1::AlertRequested request = Sealed("a1");
  auto& fields = *request.mutable_personal()->mutable_fields();
  std::swap(fields[std::string(kRecipient)], fields[std::string(kText)]);
  EXPECT_EQ(cipher_.OpenAlert(request).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TransitCipherTest, AnAlertWithoutSealedFieldsIsInvalid) {
  EXPECT_EQ(cipher_.OpenAlert(Request("a1")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TransitCipherTest, SealingNeedsAnAlertId) {
  events::v1::AlertRequested request;
  EXPECT_EQ(cipher_.SealAlert({.recipient = kRecipientNumber, .text = kAlertText}, request).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TransitCipherTest, AnOldVersionOpensAfterRotationAndRemovingItShredsTheMessage) {
  const events::v1::AlertRequested old = Sealed("a1");

  LocalKeyring rotated = *LocalKeyring::Parse(KeyringDocument(2, {1, 2}));
  TransitCipher after_rotation(rotated);
  events::v1::AlertRequested fresh = Request("a2");
  ASSERT_TRUE(after_rotation.SealAlert({.recipient = "+14155550101", .text = "x"}, fresh).ok());
  EXPECT_EQ(fresh.personal().key_version(), 2u);
  EXPECT_TRUE(after_rotation.OpenAlert(old).ok());

  LocalKeyring retired = *LocalKeyring::Parse(KeyringDocument(2, {2}));
  TransitCipher after_removal(retired);
  EXPECT_EQ(after_removal.OpenAlert(old).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(after_removal.OpenAlert(fresh).ok());
}

TEST_F(TransitCipherTest, AVersionNewerThanTheCurrentOneIsNotHeldYetAndRetryable) {
  LocalKeyring newer = *LocalKeyring::Parse(KeyringDocument(2, {1, 2}));
  events::v1::AlertRequested request = Request("a1");
  ASSERT_TRUE(
      TransitCipher(newer).SealAlert({.recipient = kRecipientNumber, .text = "x"}, request).ok());
  EXPECT_EQ(cipher_.OpenAlert(request).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TransitCipherTest, AnInboundMessageOpensToItsSenderAndBody) {
  events::v1::InboundMessage message;
  message.set_message_sid("SM1");
  ASSERT_TRUE(cipher_.SealInbound({.from = kRecipientNumber, .body = "on my way"}, message).ok());
  EXPECT_EQ(message.SerializeAsString().find("on my way"), std::string::npos);
  absl::StatusOr<SenderPersonalData> opened = cipher_.OpenInbound(message);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->from, kRecipientNumber);
  EXPECT_EQ(opened->body, "on my way");

  message.set_message_sid("SM2");
  EXPECT_EQ(cipher_.OpenInbound(message).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TransitCipherTest, AKeywordMessageOpensToItsSender) {
  events::v1::KeywordMessage message;
  message.set_message_sid("SM1");
  ASSERT_TRUE(cipher_.SealKeyword(kRecipientNumber, message).ok());
  EXPECT_EQ(message.SerializeAsString().find("4155550100"), std::string::npos);
  absl::StatusOr<std::string> from = cipher_.OpenKeyword(message);
  ASSERT_TRUE(from.ok()) << from.status();
  EXPECT_EQ(*from, kRecipientNumber);
}

TEST_F(TransitCipherTest, AnInboundMessageSealedAsAKeywordDoesNotOpen) {
  events::v1::KeywordMessage keyword;
  keyword.set_message_sid("SM1");
  ASSERT_TRUE(cipher_.SealKeyword(kRecipientNumber, keyword).ok());
  events::v1::InboundMessage inbound;
  inbound.set_message_sid("SM1");
  *inbound.mutable_personal() = keyword.personal();
  EXPECT_FALSE(cipher_.OpenInbound(inbound).ok());
}

TEST_F(TransitCipherTest, AVerificationCodeOpensOnlyForItsOwnVerification) {
  events::v1::SealedFields sealed;
  ASSERT_TRUE(cipher_.SealCode("0190a1b2-0000-7000-8000-000000000001", "482913", sealed).ok());
  EXPECT_EQ(sealed.SerializeAsString().find("482913"), std::string::npos);
  absl::StatusOr<std::string> code =
      cipher_.OpenCode("0190a1b2-0000-7000-8000-000000000001", sealed);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, "482913");
  EXPECT_EQ(cipher_.OpenCode("0190a1b2-0000-7000-8000-000000000002", sealed).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace klaxon::transit
