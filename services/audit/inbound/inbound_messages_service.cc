#include "services/audit/inbound/inbound_messages_service.h"

#include <string>

#include "common/prototime/prototime.h"
#include "services/audit/blocking_call.h"

namespace klaxon::audit {

InboundMessagesService::InboundMessagesService(const auth::CallerAuthenticator& api_keys,
                                               InboundMessageReader& reader,
                                               concurrency::BlockingExecutorOptions executor)
    : api_keys_(api_keys), reader_(reader), executor_(executor) {}

grpc::ServerUnaryReactor* InboundMessagesService::ListInboundMessages(
    grpc::CallbackServerContext* context,
    const klaxon::alerts::v1::ListInboundMessagesRequest* request,
    klaxon::alerts::v1::ListInboundMessagesResponse* response) {
  return ServeBlocking(
      api_keys_, executor_, context,
      [this, request, response](const std::string& caller) -> absl::Status {
        absl::StatusOr<InboundPage> page =
            reader_.List(caller, {.from = request->from(),
                                  .received_from = prototime::FromProtoIfSet(
                                      request->has_received_from(), request->received_from()),
                                  .received_before = prototime::FromProtoIfSet(
                                      request->has_received_before(), request->received_before()),
                                  .page_size = request->page_size(),
                                  .page_token = request->page_token()});
        if (!page.ok()) return page.status();
        for (const InboundMessageView& message : page->messages) {
          klaxon::alerts::v1::InboundMessage* out = response->add_messages();
          out->set_message_sid(message.message_sid);
          prototime::SetTimestamp(message.received_at, out->mutable_received_at());
          out->set_from(message.from);
          out->set_body(message.body);
          out->set_personal_data_shredded(message.personal_data_shredded);
        }
        response->set_next_page_token(page->next_page_token);
        return absl::OkStatus();
      });
}

}  // namespace klaxon::audit
