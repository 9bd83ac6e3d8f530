#include "services/audit/dead_letters/stored_dead_letter.h"

#include <utility>

#include "klaxon/audit/v1/stored.pb.h"

namespace klaxon::audit {

std::string StoredDeadLetterRequest(const events::v1::AlertRequested& request,
                                    const transit::AlertPersonalData& personal) {
  events::v1::AlertRequested opened = request;
  opened.clear_personal();
  audit::v1::DeadLetterPersonal fields;
  fields.set_recipient(personal.recipient);
  fields.set_text(personal.text);
  // Concatenated protobuf messages parse as their merge: both messages read these bytes.
  return opened.SerializeAsString() + fields.SerializeAsString();
}

absl::StatusOr<OpenedDeadLetterRequest> ParseStoredDeadLetterRequest(std::string_view plaintext) {
  OpenedDeadLetterRequest opened;
  audit::v1::DeadLetterPersonal fields;
  const int size = static_cast<int>(plaintext.size());
  if (!opened.request.ParseFromArray(plaintext.data(), size) ||
      !fields.ParseFromArray(plaintext.data(), size)) {
    return absl::DataLossError("the sealed request of a dead letter is not an AlertRequested");
  }
  opened.request.clear_personal();
  // The fields the request parsed as unknown (its old recipient and text) are dropped, so a
  // republished request never carries them in plaintext.
  opened.request.DiscardUnknownFields();
  opened.personal = {.recipient = fields.recipient(), .text = fields.text()};
  return opened;
}

}  // namespace klaxon::audit
