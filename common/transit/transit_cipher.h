#pragma once
// Personal data in Kafka values (docs/adr/0013-transit-encryption.md): the recipient and text of
// an AlertRequested, the sender and body of an inbound SMS travel only as events::v1::SealedFields,
// sealed by crypto::PersonalData (a data key per message, wrapped under the transit keyring's
// current version) exactly as audit seals them for Postgres. The associated data names the
// message type, the record (the alert id, or the inbound message's SID) and the field, so a sealed
// field copied into another event does not open. Ingress seals; the workers open what they need
// to call Twilio and republish the sealed fields as they are (same alert id, so they still open);
// audit opens and re-seals under its own keyring. Thread-safe.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_wrapper.h"
#include "common/crypto/personal_data.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::transit {

// The field names inside SealedFields.
inline constexpr absl::string_view kRecipient = "recipient";
inline constexpr absl::string_view kText = "text";
inline constexpr absl::string_view kFrom = "from";
inline constexpr absl::string_view kBody = "body";
inline constexpr absl::string_view kCode = "code";

struct AlertPersonalData {
  std::string recipient;  // E.164
  std::string text;
};

// The sender of an inbound SMS and what it said ("" for an opt-out or opt-in keyword message,
// whose keyword is in the clear).
struct SenderPersonalData {
  std::string from;  // E.164
  std::string body;
};

class TransitCipher {
 public:
  // `keys`: the transit keyring (KLAXON_TRANSIT_KEYRING); borrowed, must outlive the cipher.
  explicit TransitCipher(crypto::KeyWrapper& keys) : keys_(keys), personal_(keys) {}

  // Seals into request.personal under a fresh data key, bound to request.header().alert_id(),
  // which must be set. Errors are kInternal (the CSPRNG failed) or kInvalidArgument (no alert id).
  absl::Status SealAlert(const AlertPersonalData& data, events::v1::AlertRequested& request);
  // kFailedPrecondition when the keyring no longer holds the (older) key version the request was
  // sealed under: the request is crypto-shredded and can never be opened again. kUnavailable when
  // it was sealed under a version newer than this keyring's current one, which this process does
  // not hold yet (a rotation rolling out): retrying after the keyring is updated helps. kDataLoss
  // when a field or its binding was altered; kInvalidArgument when it carries no sealed fields.
  // The same for every Open below.
  absl::StatusOr<AlertPersonalData> OpenAlert(const events::v1::AlertRequested& request);

  // An inbound SMS that is not a keyword: from and body, bound to message.message_sid().
  absl::Status SealInbound(const SenderPersonalData& data, events::v1::InboundMessage& message);
  absl::StatusOr<SenderPersonalData> OpenInbound(const events::v1::InboundMessage& message);
  // An opt-out or opt-in: the sender, bound to message.message_sid().
  absl::Status SealKeyword(absl::string_view from, events::v1::KeywordMessage& message);
  absl::StatusOr<std::string> OpenKeyword(const events::v1::KeywordMessage& message);
  // A phone verification's one-time code, bound to its id: kept in Redis only sealed, so that a
  // repeat StartVerification can send the same code again (docs/adr/0022).
  absl::Status SealCode(absl::string_view verification_id, absl::string_view code,
                        events::v1::SealedFields& sealed);
  absl::StatusOr<std::string> OpenCode(absl::string_view verification_id,
                                       const events::v1::SealedFields& sealed);

 private:
  absl::Status SealInto(absl::string_view table, absl::string_view record,
                        const crypto::Fields& plaintext, events::v1::SealedFields& sealed);
  absl::StatusOr<crypto::Fields> OpenFrom(absl::string_view table, absl::string_view record,
                                          const events::v1::SealedFields& sealed);

  crypto::KeyWrapper& keys_;
  crypto::PersonalData personal_;
};

}  // namespace klaxon::transit
