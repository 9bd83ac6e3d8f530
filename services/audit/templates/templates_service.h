#pragma once
// klaxon.alerts.v1.Templates over gRPC (callback API), on audit's port next to AlertQuery and
// DeadLetters (ADR 0030). Authenticates the caller by API key, runs each call on a
// BlockingExecutor (each waits on the TemplateStore) and translates: CreateTemplate validates
// (template_validation.h) and stores the next version; ListTemplates lists the latest of each
// locale; RenderTemplate renders the latest version (template_rendering.h) without storing
// anything. Log lines name templates, never their texts nor a parameter's value.

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "common/log/log.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/audit/templates/message_template.h"
#include "services/audit/templates/template_store.h"

namespace klaxon::audit {

// The caller-facing form of a stored template.
klaxon::alerts::v1::Template ToProto(const MessageTemplate& stored);

class TemplatesService final : public klaxon::alerts::v1::Templates::CallbackService {
 public:
  // Borrowed; they must outlive the service. Destroy the service only after the gRPC server has
  // shut down; destruction finishes the calls still queued.
  TemplatesService(const auth::CallerAuthenticator& api_keys, TemplateStore& store,
                   const log::Logger& logger, concurrency::BlockingExecutorOptions executor = {});

  grpc::ServerUnaryReactor* CreateTemplate(grpc::CallbackServerContext* context,
                                           const klaxon::alerts::v1::CreateTemplateRequest* request,
                                           klaxon::alerts::v1::Template* response) override;
  grpc::ServerUnaryReactor* ListTemplates(grpc::CallbackServerContext* context,
                                          const klaxon::alerts::v1::ListTemplatesRequest* request,
                                          klaxon::alerts::v1::ListTemplatesResponse* response) override;
  // kNotFound names a template the caller does not have; see Render() for the rest.
  grpc::ServerUnaryReactor* RenderTemplate(grpc::CallbackServerContext* context,
                                           const klaxon::alerts::v1::RenderTemplateRequest* request,
                                           klaxon::alerts::v1::RenderedTemplate* response) override;

 private:
  const auth::CallerAuthenticator& api_keys_;
  TemplateStore& store_;
  const log::Logger& logger_;
  concurrency::BlockingExecutor
      executor_;  // last: its destructor runs queued calls that use the members above
};

}  // namespace klaxon::audit
