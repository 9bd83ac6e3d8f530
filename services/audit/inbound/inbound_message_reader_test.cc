#include "services/audit/inbound/inbound_message_reader.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/audit/testing/audit_keys.h"
#include "services/audit/testing/fake_inbound_messages.h"

namespace klaxon::audit::inbound_message_reader_test {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kAna[] = "+14155550100";
constexpr char kBen[] = "+442071838750";
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

class InboundMessageReaderTest : public ::testing::Test {
 protected:
  // A message from `from` saying `body`, received `after` kT0, sealed as audit's event handler
  // seals it, from a number "billing" paged at kT0 unless `paged` is false.
  StoredInboundMessage Receive(const std::string& sid, const std::string& from,
                               const std::string& body, absl::Duration after, bool paged = true) {
    const std::string event_key = "sid:" + sid + ":received:0";
    const SealedRecord sealed =
        sealing_.personal_data
            .Seal(kAuditEventsTable, event_key,
                  {{kEventPersonalColumn, nlohmann::json{{"from", from}, {"body", body}}.dump()}})
            .value();
    const StoredInboundMessage stored{
        .event_key = event_key,
        .received_at = kT0 + after,
        .message_sid = sid,
        .personal_ciphertext = sealed.ciphertext.at(kEventPersonalColumn),
        .data_key = sealed.wrapped_key};
    if (paged) messages_.Paged("billing", sealing_.blind_index.Compute(from), kT0);
    messages_.Received(stored, sealing_.blind_index.Compute(from));
    return stored;
  }

  absl::StatusOr<InboundPage> List(const ListInboundQuery& query = {},
                                   const std::string& caller = "billing") {
    return reader_.List(caller, query);
  }

  FakeInboundMessages messages_;
  testing::AuditKeys sealing_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("inbound-reader-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  InboundMessageReader reader_{messages_, sealing_.personal_data, sealing_.blind_index, logger_};
};

TEST_F(InboundMessageReaderTest, ListsThePagedSendersMessagesNewestFirstOpened) {
  Receive("SM1", kAna, "on my way", absl::Seconds(1));
  Receive("SM2", kBen, "who is this?", absl::Seconds(2));
  Receive("SM3", "+14155550199", "not paged by billing", absl::Seconds(3), /*paged=*/false);

  absl::StatusOr<InboundPage> page = List();
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(page->messages, ElementsAre(InboundMessageView{.message_sid = "SM2",
                                                             .received_at = kT0 + absl::Seconds(2),
                                                             .from = kBen,
                                                             .body = "who is this?"},
                                          InboundMessageView{.message_sid = "SM1",
                                                             .received_at = kT0 + absl::Seconds(1),
                                                             .from = kAna,
                                                             .body = "on my way"}));
  EXPECT_THAT(page->next_page_token, IsEmpty());
  // Another caller paged neither number.
  EXPECT_THAT(List({}, "payments")->messages, IsEmpty());
}

TEST_F(InboundMessageReaderTest, FiltersBySenderAndTime) {
  Receive("SM1", kAna, "one", absl::Seconds(1));
  Receive("SM2", kBen, "two", absl::Seconds(2));
  Receive("SM3", kAna, "three", absl::Seconds(3));

  EXPECT_THAT(List({.from = kAna})->messages,
              ElementsAre(Field(&InboundMessageView::message_sid, "SM3"),
                          Field(&InboundMessageView::message_sid, "SM1")));
  EXPECT_THAT(
      List({.received_from = kT0 + absl::Seconds(2), .received_before = kT0 + absl::Seconds(3)})
          ->messages,
      ElementsAre(Field(&InboundMessageView::message_sid, "SM2")));
}

TEST_F(InboundMessageReaderTest, PagesByTokenBoundToTheFilters) {
  for (int i = 0; i < 5; ++i) {
    Receive("SM" + std::to_string(i), kAna, "reply", absl::Seconds(i));
  }
  std::vector<std::string> sids;
  std::string token;
  do {
    absl::StatusOr<InboundPage> page = List({.page_size = 2, .page_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const InboundMessageView& message : page->messages) sids.push_back(message.message_sid);
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_THAT(sids, ElementsAre("SM4", "SM3", "SM2", "SM1", "SM0"));
  // One row more than the page, to know whether another follows.
  EXPECT_EQ(messages_.last_limit(), 3);

  const std::string first = List({.page_size = 2})->next_page_token;
  absl::StatusOr<InboundPage> other_filters =
      List({.from = kAna, .page_size = 2, .page_token = first});
  EXPECT_EQ(other_filters.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other_filters.status().message(), HasSubstr("page_token"));
  EXPECT_EQ(List({.page_size = 2, .page_token = first}, "payments").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<InboundPage> garbage = List({.page_token = "not a token!"});
  EXPECT_THAT(garbage.status().message(), HasSubstr("ListInboundMessages"));
}

TEST_F(InboundMessageReaderTest, RefusesBadFiltersNamingTheField) {
  absl::StatusOr<InboundPage> sender = List({.from = "4155550100"});
  EXPECT_EQ(sender.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sender.status().message(), HasSubstr("from:"));
  absl::StatusOr<InboundPage> window =
      List({.received_from = kT0, .received_before = kT0 - absl::Seconds(1)});
  EXPECT_THAT(window.status().message(), HasSubstr("received_before"));
  absl::StatusOr<InboundPage> size = List({.page_size = 501});
  EXPECT_THAT(size.status().message(), HasSubstr("page_size"));
}

TEST_F(InboundMessageReaderTest, ShreddedMessagesAreListedWithoutSenderOrBody) {
  StoredInboundMessage stored = Receive("SM1", kAna, "on my way", absl::Seconds(1));
  FakeInboundMessages shredded;
  stored.data_key.reset();
  shredded.Paged("billing", sealing_.blind_index.Compute(kAna), kT0);
  shredded.Received(stored, sealing_.blind_index.Compute(kAna));
  InboundMessageReader reader(shredded, sealing_.personal_data, sealing_.blind_index, logger_);

  absl::StatusOr<InboundPage> page = reader.List("billing", {});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_TRUE(page->messages[0].personal_data_shredded);
  EXPECT_THAT(page->messages[0].from, IsEmpty());
  EXPECT_THAT(page->messages[0].body, IsEmpty());
}

TEST_F(InboundMessageReaderTest, AlteredCiphertextFailsNamingTheMessageNeverItsText) {
  StoredInboundMessage stored = Receive("SM1", kAna, "on my way", absl::Seconds(1));
  FakeInboundMessages altered;
  stored.personal_ciphertext[stored.personal_ciphertext.size() / 2] ^= 1;
  altered.Paged("billing", sealing_.blind_index.Compute(kAna), kT0);
  altered.Received(stored, sealing_.blind_index.Compute(kAna));
  InboundMessageReader reader(altered, sealing_.personal_data, sealing_.blind_index, logger_);

  absl::StatusOr<InboundPage> page = reader.List("billing", {});
  EXPECT_EQ(page.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(page.status().message(), HasSubstr("inbound message SM1"));
  EXPECT_THAT(page.status().message(), Not(HasSubstr("on my way")));
  for (const std::string& line : sink_.Lines()) {
    EXPECT_THAT(line, Not(HasSubstr("on my way")));
    EXPECT_THAT(line, Not(HasSubstr("4155550100")));
  }
}

TEST_F(InboundMessageReaderTest, StoreDownIsUnavailable) {
  messages_.FailWith(absl::UnavailableError("database is down"));
  EXPECT_EQ(List().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::audit::inbound_message_reader_test
