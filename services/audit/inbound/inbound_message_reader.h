#pragma once
// ListInboundMessages' logic (ADR 0032): checks the request, turns the sender filter into its
// blind index, pages by an opaque keyset token (page_token.h) and opens each message's sender and
// body (PersonalData, ADR 0008). A message whose data key retention destroyed is listed with
// personal_data_shredded; one whose ciphertext or wrapped key does not open fails the call with
// kDataLoss naming the message and what did not open, never with wrong data. The SQL is
// InboundMessages'; the gRPC translation is InboundMessagesService's.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/blind_index.h"
#include "common/log/log.h"
#include "services/audit/inbound/inbound_messages.h"
#include "services/audit/personal_data.h"

namespace klaxon::audit {

// ListInboundMessagesRequest in domain terms; an empty sender and unset times do not filter.
struct ListInboundQuery {
  std::string from{};  // E.164
  std::optional<absl::Time> received_from{};
  std::optional<absl::Time> received_before{};
  int32_t page_size = 0;
  std::string page_token{};
};

// An inbound message as ListInboundMessages answers it.
struct InboundMessageView {
  std::string message_sid{};
  absl::Time received_at{};
  std::string from{};  // E.164; empty once shredded
  std::string body{};  // empty once shredded
  bool personal_data_shredded = false;

  friend bool operator==(const InboundMessageView&, const InboundMessageView&) = default;
};

struct InboundPage {
  std::vector<InboundMessageView> messages{};
  std::string next_page_token{};  // empty on the last page
};

class InboundMessageReader {
 public:
  // All borrowed; they must outlive the reader. Thread-safe if the ports are.
  InboundMessageReader(InboundMessages& messages, PersonalData& personal_data,
                       const crypto::BlindIndex& blind_index, const log::Logger& logger);

  // `caller`'s messages (inbound_messages.h says which are), newest first.
  //   kInvalidArgument  a filter, page_size or page_token is invalid (the message names it)
  //   kUnavailable      the store cannot be reached
  //   kDataLoss         a message's sender and body do not open (altered or misplaced)
  //   kInternal         the keyring lacks the key version a message's data key is wrapped under
  absl::StatusOr<InboundPage> List(std::string_view caller, const ListInboundQuery& query);

 private:
  absl::StatusOr<InboundFilter> MakeFilter(std::string_view caller, const ListInboundQuery& query);
  absl::StatusOr<InboundMessageView> Open(const StoredInboundMessage& stored);

  InboundMessages& messages_;
  PersonalData& personal_data_;
  const crypto::BlindIndex& blind_index_;
  const log::Logger& logger_;
};

}  // namespace klaxon::audit
