#include "services/audit/query/alert_reader.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/ingest/projection.h"
#include "services/audit/testing/fake_backed_reader.h"
#include "services/audit/testing/ingest.h"

namespace klaxon::audit::alert_reader_test {
namespace {

using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

class AlertReaderTest : public ::testing::Test, protected testing::FakeBackedReader {
 protected:
  AlertReaderTest() {
    oracle_.SetPartition(topics_.sms_requests, kAlertId, 2);
    oracle_.SetPartition(topics_.voice_requests, kAlertId, 5);
  }

  AlertEvent Requested(const std::string& caller = "billing") {
    return {.kind = AlertEvent::Kind::kRequested,
            .alert_id = kAlertId,
            .caller = caller,
            .channel = klaxon::types::v1::CHANNEL_SMS,
            .attempt = 1,
            .occurred_at = clock_.Now(),
            .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
            .recipient_country_code = "1",
            .recipient_last4 = "0100"};
  }

  // The consumer handling the request at `offset` of the alert's sms partition, and then the
  // progress recorder writing that every message before it was handled.
  void Consume(int64_t offset, const std::string& caller = "billing") {
    ASSERT_TRUE(testing::Apply(store_, Requested(caller)).ok());
    ASSERT_TRUE(
        store_
            .AdvanceProgress(
                {{.topic = topics_.sms_requests, .partition = 2, .next_offset = offset + 1}})
            .ok());
  }

  absl::StatusOr<AlertView> Get(const std::string& caller = "billing") {
    return reader_.GetAlert(caller, kAlertId, absl::InfiniteFuture());
  }
};

TEST_F(AlertReaderTest, StoredAlertIsReturnedWithoutAskingKafka) {
  Consume(0);
  oracle_.FailWith(absl::UnavailableError("no broker"));
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AlertReaderTest, MalformedAlertIdIsInvalidArgumentNamingTheField) {
  absl::StatusOr<AlertView> alert =
      reader_.GetAlert("billing", "not-a-uuid", absl::InfiniteFuture());
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(alert.status().message(), HasSubstr("alert_id"));
}

TEST_F(AlertReaderTest, AlertOfAnotherCallerIsNotFound) {
  Consume(0, "payments");
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 1);
  absl::StatusOr<AlertView> alert = Get("billing");
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AlertReaderTest, UnknownAlertOnCaughtUpPartitionsIsNotFoundWithoutWaiting) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 10);
  ASSERT_TRUE(
      store_.AdvanceProgress({{.topic = topics_.sms_requests, .partition = 2, .next_offset = 10}})
          .ok());
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AlertReaderTest, WaitsUntilConsumerRecordsJustSentAlert) {
  // SendAlert returned: the request is at offset 4 of sms partition 2, audit has not read it.
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  int sleeps_until_consumed = 3;
  clock_.OnSleep([&] {
    if (--sleeps_until_consumed == 0) Consume(4);
  });
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->record.status, klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
}

TEST_F(AlertReaderTest, WaitsForEveryRequestTopicBeforeNotFound) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  oracle_.SetHighWatermark(topics_.voice_requests, 5, 1);
  ASSERT_TRUE(
      store_.AdvanceProgress({{.topic = topics_.sms_requests, .partition = 2, .next_offset = 5}})
          .ok());
  clock_.OnSleep([&] {
    ASSERT_TRUE(
        store_
            .AdvanceProgress({{.topic = topics_.voice_requests, .partition = 5, .next_offset = 1}})
            .ok());
  });
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

// An outcome consumed before the caller's request: the reader waits for the request too.
AlertEvent SentBeforeTheRequest(AlertEvent requested) {
  requested.kind = AlertEvent::Kind::kOutcome;
  requested.status = klaxon::types::v1::ALERT_STATUS_SENT;
  requested.recipient_country_code.clear();
  requested.recipient_last4.clear();
  return requested;
}

TEST_F(AlertReaderTest, AlertKnownOnlyFromAnOutcomeWaitsForItsRequest) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 1);
  ASSERT_TRUE(testing::Apply(store_, SentBeforeTheRequest(Requested())).ok());
  clock_.OnSleep([&] { Consume(0); });
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_TRUE(alert->record.requested);
  EXPECT_EQ(alert->record.recipient_last4, "0100");
  EXPECT_EQ(alert->record.status, klaxon::types::v1::ALERT_STATUS_SENT);
}

TEST_F(AlertReaderTest, AlertKnownOnlyFromAnOutcomeIsReturnedAsItIsAfterMaxWait) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 1);
  ASSERT_TRUE(testing::Apply(store_, SentBeforeTheRequest(Requested())).ok());
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_FALSE(alert->record.requested);
  EXPECT_EQ(alert->record.status, klaxon::types::v1::ALERT_STATUS_SENT);
}

TEST_F(AlertReaderTest, ConsumerThatDoesNotCatchUpGivesUnavailableAfterMaxWait) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  const absl::Time start = clock_.Now();
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(clock_.Now() - start, absl::Seconds(3));
}

TEST_F(AlertReaderTest, CallerDeadlineShortensTheWait) {
  oracle_.SetHighWatermark(topics_.sms_requests, 2, 5);
  const absl::Time start = clock_.Now();
  absl::StatusOr<AlertView> alert =
      reader_.GetAlert("billing", kAlertId, start + absl::Milliseconds(500));
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(clock_.Now() - start, absl::Milliseconds(500));
}

TEST_F(AlertReaderTest, KafkaUnreachableIsUnavailable) {
  oracle_.FailWith(absl::UnavailableError("no broker"));
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AlertReaderTest, StoreUnreachableIsUnavailable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kUnavailable);
}

constexpr char kOtherAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6e";

class AlertReaderPersonalDataTest : public AlertReaderTest {
 protected:
  // The record the event handler and store make of a request to +14155550100 with `text`.
  AlertRecord Sealed(const std::string& alert_id, const std::string& text) {
    AlertEvent requested = Requested();
    requested.alert_id = alert_id;
    return SealedAlert(requested, "+14155550100", text);
  }

  std::string Logs() const {
    std::string logs;
    for (const std::string& line : sink_.Lines()) logs += line + "\n";
    return logs;
  }
};

TEST_F(AlertReaderPersonalDataTest, RecipientAndTextAreOpened) {
  store_.Put(Sealed(kAlertId, "disk full on db-7"));
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->recipient, "+14155550100");
  EXPECT_EQ(alert->text, "disk full on db-7");
  EXPECT_FALSE(alert->personal_data_shredded);
}

TEST_F(AlertReaderPersonalDataTest, ShreddedDataKeyLeavesRecipientAndTextEmpty) {
  AlertRecord record = Sealed(kAlertId, "disk full on db-7");
  record.data_key.reset();
  store_.Put(record);
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_TRUE(alert->personal_data_shredded);
  EXPECT_EQ(alert->recipient, "");
  EXPECT_EQ(alert->text, "");
}

TEST_F(AlertReaderPersonalDataTest, FlippedBitInRecipientIsDataLossNamingAlertAndColumn) {
  AlertRecord record = Sealed(kAlertId, "disk full on db-7");
  record.recipient_ciphertext[record.recipient_ciphertext.size() / 2] ^= 0x01;
  store_.Put(record);
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(alert.status().message(), HasSubstr(kAlertId));
  EXPECT_THAT(alert.status().message(), HasSubstr("recipient_ciphertext"));
  EXPECT_THAT(Logs(), HasSubstr("personal_data_unreadable"));
  EXPECT_THAT(Logs(), ::testing::Not(HasSubstr("disk full")));
}

TEST_F(AlertReaderPersonalDataTest, FlippedBitInWrappedKeyIsDataLoss) {
  AlertRecord record = Sealed(kAlertId, "disk full on db-7");
  record.data_key->sealed[3] ^= 0x01;
  store_.Put(record);
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(alert.status().message(), HasSubstr(kAlertId));
}

TEST_F(AlertReaderPersonalDataTest, TextCopiedFromAnotherAlertIsDataLoss) {
  AlertRecord record = Sealed(kAlertId, "disk full on db-7");
  record.text_ciphertext = Sealed(kOtherAlertId, "someone else's text").text_ciphertext;
  store_.Put(record);
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(alert.status().message(), HasSubstr("text_ciphertext"));
}

TEST_F(AlertReaderPersonalDataTest, OutcomeBeforeTheRequestHasNothingSealedAndIsNotShredded) {
  AlertEvent sent = Requested();
  sent.kind = AlertEvent::Kind::kOutcome;
  sent.status = klaxon::types::v1::ALERT_STATUS_SENT;
  store_.Put(ApplyEvent(std::nullopt, sent));
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_FALSE(alert->personal_data_shredded);
  EXPECT_EQ(alert->recipient, "");
}

constexpr char kSecondPageId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c70";
constexpr char kThirdPageId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c71";

// kAlertId stands for an escalation chain (ADR 0029): it is the chain's first page.
class AlertReaderEscalationTest : public AlertReaderPersonalDataTest {
 protected:
  // Page `alert_id` of the chain, at `step`, to `recipient`, requested `after` the chain.
  AlertRecord Page(const std::string& alert_id, uint32_t step, const std::string& recipient,
                   absl::Duration after) {
    AlertEvent requested = Requested();
    requested.alert_id = alert_id;
    requested.occurred_at += after;
    requested.escalation_id = kAlertId;
    requested.escalation_step = step;
    return SealedAlert(requested, recipient, "disk full on db-7");
  }

  // The chain paging +14155550100, then +14155550122, then +14155550133, a minute apart; and
  // an alert of no chain.
  void PutChain() {
    store_.Put(Page(kAlertId, 1, "+14155550100", absl::ZeroDuration()));
    store_.Put(Page(kSecondPageId, 2, "+14155550122", absl::Minutes(1)));
    store_.Put(Page(kThirdPageId, 3, "+14155550133", absl::Minutes(2)));
    store_.Put(Sealed(kOtherAlertId, "unrelated"));
  }

  // `id`'s stored record changed by `change`.
  template <typename Change>
  void Alter(const std::string& id, Change change) {
    AlertRecord record = *store_.Find(id);
    change(record);
    store_.Put(std::move(record));
  }
};

TEST_F(AlertReaderEscalationTest, ChainListsItsPagesWithTheirRecipientsButNoText) {
  PutChain();
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->recipient, "+14155550100");
  EXPECT_EQ(alert->text, "disk full on db-7");
  ASSERT_EQ(alert->pages.size(), 3u);
  const std::vector<std::pair<std::string, std::string>> paged = {
      {kAlertId, "+14155550100"}, {kSecondPageId, "+14155550122"}, {kThirdPageId, "+14155550133"}};
  for (size_t i = 0; i < paged.size(); ++i) {
    EXPECT_EQ(alert->pages[i].record.alert_id, paged[i].first) << i;
    EXPECT_EQ(alert->pages[i].recipient, paged[i].second) << i;
    EXPECT_EQ(alert->pages[i].text, "") << i;
    EXPECT_FALSE(alert->pages[i].personal_data_shredded) << i;
    EXPECT_TRUE(alert->pages[i].pages.empty()) << i;
  }
}

TEST_F(AlertReaderEscalationTest, LaterPageOfAChainListsNoPages) {
  PutChain();
  absl::StatusOr<AlertView> page =
      reader_.GetAlert("billing", kSecondPageId, absl::InfiniteFuture());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->record.escalation_id, kAlertId);
  EXPECT_EQ(page->record.escalation_step, 2u);
  EXPECT_EQ(page->text, "disk full on db-7");
  EXPECT_TRUE(page->pages.empty());
}

// A step may page its recipient several times: only the chain's first page stands for it.
TEST_F(AlertReaderEscalationTest, RepeatedPageOfTheFirstStepListsNoPages) {
  PutChain();
  store_.Put(Page(kOtherAlertId, 1, "+14155550100", absl::Seconds(30)));
  absl::StatusOr<AlertView> page =
      reader_.GetAlert("billing", kOtherAlertId, absl::InfiniteFuture());
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->pages.empty());
}

TEST_F(AlertReaderEscalationTest, ShreddedPageIsListedAsShredded) {
  PutChain();
  Alter(kSecondPageId, [](AlertRecord& record) { record.data_key.reset(); });
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  ASSERT_EQ(alert->pages.size(), 3u);
  EXPECT_TRUE(alert->pages[1].personal_data_shredded);
  EXPECT_EQ(alert->pages[1].recipient, "");
  EXPECT_EQ(alert->pages[2].recipient, "+14155550133");
}

TEST_F(AlertReaderEscalationTest, PageWhoseRecipientDoesNotOpenIsDataLossNamingThePage) {
  PutChain();
  Alter(kThirdPageId, [](AlertRecord& record) {
    record.recipient_ciphertext[record.recipient_ciphertext.size() / 2] ^= 0x01;
  });
  absl::StatusOr<AlertView> alert = Get();
  EXPECT_EQ(alert.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(alert.status().message(), HasSubstr(kThirdPageId));
  EXPECT_THAT(alert.status().message(), HasSubstr("recipient_ciphertext"));
}

// A page's text is the chain's text again: it is not even opened.
TEST_F(AlertReaderEscalationTest, PagesTextIsNotOpened) {
  PutChain();
  const std::string foreign = Sealed(kOtherAlertId, "someone else's text").text_ciphertext;
  Alter(kSecondPageId, [&](AlertRecord& record) { record.text_ciphertext = foreign; });
  absl::StatusOr<AlertView> alert = Get();
  ASSERT_TRUE(alert.ok()) << alert.status();
  EXPECT_EQ(alert->pages[1].recipient, "+14155550122");
}

}  // namespace
}  // namespace klaxon::audit::alert_reader_test
